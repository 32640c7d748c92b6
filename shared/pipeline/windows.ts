/**
 * Window declarations and aggregations of the pipeline API (docs/semantics.md §7). A pipeline
 * declares windows by name in `definePipeline({ windows: { ... } })`; weir feeds every
 * input record with a key to each declared window and emits the results to the
 * window's output topic as `{ key: message key, value: { start, end, ...results } }`,
 * timestamped with the window start: `{start, end, value}` for a single aggregation,
 * `{start, end, <column>: ...}` for several. docs/windows.md describes every kind.
 *
 * ```ts
 * import { definePipeline, hoppingWindow, mean, max, count } from 'weir/pipeline';
 * export default definePipeline({
 *   windows: {
 *     temperature: hoppingWindow({
 *       durationMs: 10_000, stepMs: 1_000, graceMs: 2_000,
 *       aggregate: { avg: mean((r: Reading) => r.celsius), peak: max((r: Reading) => r.celsius), n: count() },
 *       emit: 'final',
 *       to: 'temperature-averages',
 *     }),
 *   },
 * });
 * ```
 *
 * Everything here is plain data and pure functions, so the same module loads in the
 * coordinator (store names) and in the workers (processing).
 */
import { InvalidWindowDefinitionError } from '../errors/window-errors.js';

export { InvalidWindowDefinitionError };

// ---- aggregations -----------------------------------------------------------

/**
 * An incremental aggregation: a JSON-serializable state updated per record, and the
 * result computed from it. `merge` combines the states of two session windows when a
 * record bridges them (session windows need it).
 */
export interface Aggregator<In = unknown, State = unknown, Result = unknown> {
  readonly kind: 'aggregate';
  /** Name used in the stored state (`<column>/<Name>`) and store names (`..._<name>`). */
  readonly name: string;
  initialize(): State;
  aggregate(state: State, value: In, timestamp: number): State;
  result(state: State): Result;
  /** Combines the state of an earlier session (`older`) with a later one (`newer`). */
  merge?(older: State, newer: State): State;
}

/** Collects (optionally projected) values; they are kept apart in `__values__` and listed at emission. */
export interface Collector<In = unknown> {
  readonly kind: 'collect';
  readonly name: 'Collect';
  project(value: In): unknown;
}

/**
 * One aggregation, or several by result column (`start` and `end` are reserved).
 * Result payloads: a single aggregation gives `{start, end, value}` (its result is the
 * column `value`); several give `{start, end, <column>: result, ...}`.
 */
export type WindowAggregation<In = unknown> =
  | Aggregator<In>
  | Collector<In>
  | Readonly<Record<string, Aggregator<In> | Collector<In>>>;

/** Extracts the aggregated quantity from a record value; default: the value itself. */
export type Extractor<In, Out> = (value: In) => Out;

const identity = <T>(value: unknown): T => value as T;

/** Number of records whose extracted value is not null/undefined (all records without an extractor). */
export function count<In = unknown>(extract?: Extractor<In, unknown>): Aggregator<In, number, number> {
  return {
    kind: 'aggregate',
    name: 'Count',
    initialize: () => 0,
    aggregate: (state, value) => {
      const v = extract === undefined ? value : extract(value);
      return v === null || v === undefined ? state : state + 1;
    },
    result: (state) => state,
    merge: (a, b) => a + b,
  };
}

/** Sum of the extracted numbers. */
export function sum<In = unknown>(extract: Extractor<In, number> = identity): Aggregator<In, number, number> {
  return {
    kind: 'aggregate',
    name: 'Sum',
    initialize: () => 0,
    aggregate: (state, value) => state + extract(value),
    result: (state) => state,
    merge: (a, b) => a + b,
  };
}

/** Arithmetic mean of the extracted numbers (`null` for an empty window); state `[sum, count]`. */
export function mean<In = unknown>(extract: Extractor<In, number> = identity): Aggregator<In, [number, number], number | null> {
  return {
    kind: 'aggregate',
    name: 'Mean',
    initialize: () => [0, 0],
    // Indexed, not destructured: array destructuring runs the iterator protocol, an
    // allocation per call on a path taken for every window a record updates.
    aggregate: (state, value) => [state[0] + extract(value), state[1] + 1],
    result: (state) => (state[1] === 0 ? null : state[0] / state[1]),
    merge: (a, b) => [a[0] + b[0], a[1] + b[1]],
  };
}

function extreme<In>(name: 'Min' | 'Max', better: (a: number, b: number) => boolean, extract: Extractor<In, number>): Aggregator<In, number | null, number | null> {
  return {
    kind: 'aggregate',
    name,
    initialize: () => null,
    aggregate: (state, value) => {
      const v = extract(value);
      return state === null || better(v, state) ? v : state;
    },
    result: (state) => state,
    merge: (a, b) => (a === null ? b : b === null ? a : better(b, a) ? b : a),
  };
}

/** Smallest extracted number (`null` for an empty window). */
export function min<In = unknown>(extract: Extractor<In, number> = identity): Aggregator<In, number | null, number | null> {
  return extreme('Min', (a, b) => a < b, extract);
}

/** Largest extracted number (`null` for an empty window). */
export function max<In = unknown>(extract: Extractor<In, number> = identity): Aggregator<In, number | null, number | null> {
  return extreme('Max', (a, b) => a > b, extract);
}

/**
 * Folds values: `initializer(first value)` then `reducer(accumulated, value)`. For
 * session windows pass `merge(older, newer)` too (combining two accumulations).
 */
export function reduce<In = unknown, Acc = unknown>(
  reducer: (accumulated: Acc, value: In) => Acc,
  initializer: (value: In) => Acc,
  merge?: (older: Acc, newer: Acc) => Acc,
): Aggregator<In, { readonly v: Acc } | null, Acc | null> {
  // State wraps the accumulation so an accumulated `null` differs from "no value yet".
  return {
    kind: 'aggregate',
    name: 'Reduce',
    initialize: () => null,
    aggregate: (state, value) => ({ v: state === null ? initializer(value) : reducer(state.v, value) }),
    result: (state) => (state === null ? null : state.v),
    ...(merge === undefined ? {} : { merge: (a, b) => (a === null ? b : b === null ? a : { v: merge(a.v, b.v) }) }),
  };
}

function byTime<In>(name: 'Earliest' | 'Latest', extract: Extractor<In, unknown>): Aggregator<In, [unknown, number] | null, unknown> {
  // Latest wins ties (a later-processed record with the same timestamp replaces); Earliest keeps the first.
  const replaces = name === 'Latest' ? (ts: number, current: number) => ts >= current : (ts: number, current: number) => ts < current;
  return {
    kind: 'aggregate',
    name,
    initialize: () => null,
    aggregate: (state, value, timestamp) => (state === null || replaces(timestamp, state[1]) ? [extract(value), timestamp] : state),
    result: (state) => (state === null ? null : state[0]),
    merge: (a, b) => (a === null ? b : b === null ? a : replaces(b[1], a[1]) ? b : a),
  };
}

/** The value with the smallest timestamp (the first processed among equals). */
export function earliest<In = unknown>(extract: Extractor<In, unknown> = identity): Aggregator<In, [unknown, number] | null, unknown> {
  return byTime('Earliest', extract);
}

/** The value with the largest timestamp (the last processed among equals). */
export function latest<In = unknown>(extract: Extractor<In, unknown> = identity): Aggregator<In, [unknown, number] | null, unknown> {
  return byTime('Latest', extract);
}

/**
 * The first value in processing order. Merging sessions keeps the earlier session's
 * first value (processing order across two sessions is not recorded).
 */
export function first<In = unknown>(extract: Extractor<In, unknown> = identity): Aggregator<In, { readonly v: unknown } | null, unknown> {
  return {
    kind: 'aggregate',
    name: 'First',
    initialize: () => null,
    aggregate: (state, value) => state ?? { v: extract(value) },
    result: (state) => (state === null ? null : state.v),
    merge: (a, b) => a ?? b,
  };
}

/** The last value in processing order (merging sessions keeps the later session's last value). */
export function last<In = unknown>(extract: Extractor<In, unknown> = identity): Aggregator<In, { readonly v: unknown } | null, unknown> {
  return {
    kind: 'aggregate',
    name: 'Last',
    initialize: () => null,
    aggregate: (_state, value) => ({ v: extract(value) }),
    result: (state) => (state === null ? null : state.v),
    merge: (a, b) => b ?? a,
  };
}

/**
 * Collects every value (or its projection) of the window, listed when the window closes
 * (`emit: 'final'` only). Order: time, tumbling, hopping, sliding and session windows list
 * values by record timestamp (records with equal timestamps in arrival order); count
 * windows list them in arrival order, since arrival is what defines them.
 */
export function collect<In = unknown>(project: Extractor<In, unknown> = identity): Collector<In> {
  return { kind: 'collect', name: 'Collect', project };
}

// ---- window declarations ------------------------------------------------------

/** A record that arrived after its window closed (docs/semantics.md §7.3 step 4). */
export interface LateRecord<In = unknown> {
  readonly value: In;
  readonly key: unknown;
  readonly timestamp: number;
  /** How far behind the closing time the record is (always ≥ 1). */
  readonly lateByMs: number;
  /**
   * The closed window the record was refused for. Time windows: that window (a hopping
   * record may be late for some windows and accepted by others: one report per late
   * window). Sliding: the closed window it falls in. Session: the key's newest closed
   * session when the record is within the gap of it, else the single-record session
   * `[t, t]` it would have formed.
   */
  readonly start: number;
  readonly end: number;
  readonly store: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** Which results go out: every update of an open window (`current`) or each window once when it closes (`final`). */
export type EmitMode = 'current' | 'final';

/** Options every window kind shares. */
export interface WindowOptionsBase<In> {
  /** What to compute per window. */
  readonly aggregate: WindowAggregation<In>;
  /** `final` (default): one result per window when it closes; `current`: a result on every update. */
  readonly emit?: EmitMode;
  /** Output topic of the results (must be listed in the config's `output.topics`); without it results are only in state. */
  readonly to?: string;
  /**
   * Called for a record too late for a window; return `true` to also log the default
   * warning. Without a callback, a warning is logged.
   */
  onLate?(late: LateRecord<In>): boolean | void;
}

/** Event time to key: closing by each key's own clock (default) or by the partition's clock. */
export type ClosingStrategy = 'key' | 'partition';

/** Callback deciding whether a window closes early (before or after the record is aggregated). */
export interface WindowTrigger<In> {
  (current: unknown, value: In, key: unknown, timestamp: number, headers: Readonly<Record<string, string>>): boolean;
}

/** Options of tumbling and hopping time windows. */
export interface TimeWindowOptions<In> extends WindowOptionsBase<In> {
  readonly durationMs: number;
  /** How long after a window's end records are still accepted (default 0). */
  readonly graceMs?: number;
  /** `key` (default) or `partition` (windows of all keys close together, docs/semantics.md §7.3). */
  readonly closeBy?: ClosingStrategy;
  /**
   * Consulted before a record is added to an existing window; when it returns true the
   * window closes (is emitted and deleted) without the record, and the record opens a
   * new window of the same range. Not consulted for a record that opens a window.
   */
  readonly beforeUpdate?: WindowTrigger<In>;
  /**
   * Consulted after a record is added to a window; when it returns true the window
   * closes (is emitted and deleted) with the record. A later record of the same range
   * opens a new window: it aggregates and collects only records that arrive after the
   * trigger (values already emitted never reappear).
   */
  readonly afterUpdate?: WindowTrigger<In>;
}

export interface HoppingWindowOptions<In> extends TimeWindowOptions<In> {
  /** Distance between window starts; `0 < stepMs < durationMs`. */
  readonly stepMs: number;
}

/** Options of sliding time windows (both ends inclusive; no triggers, key closing only). */
export interface SlidingWindowOptions<In> extends WindowOptionsBase<In> {
  readonly durationMs: number;
  readonly graceMs?: number;
}

/** Options of count windows. */
export interface CountWindowOptions<In> extends WindowOptionsBase<In> {
  /** Records per window (≥ 2). */
  readonly count: number;
}

export interface HoppingCountWindowOptions<In> extends CountWindowOptions<In> {
  /** Records between window starts: `1 ≤ step < count` (use tumblingCountWindow for step = count). */
  readonly step: number;
}

/** Options of session windows. */
export interface SessionWindowOptions<In> extends WindowOptionsBase<In> {
  /** A session ends after this much event time without a record of its key. */
  readonly inactivityGapMs: number;
  readonly graceMs?: number;
}

/** A validated window declaration (what the factories return). */
export type WindowDeclaration<In = unknown> =
  | ({ readonly type: 'tumbling' | 'hopping'; readonly stepMs: number } & TimeWindowOptions<In>)
  | ({ readonly type: 'sliding' } & SlidingWindowOptions<In>)
  | ({ readonly type: 'tumbling-count' | 'hopping-count'; readonly step: number } & CountWindowOptions<In>)
  | ({ readonly type: 'session' } & SessionWindowOptions<In>);

function isCollector(value: unknown): value is Collector {
  return typeof value === 'object' && value !== null && (value as Collector).kind === 'collect';
}

/** True if the aggregation collects values (alone or among others). */
export function aggregationCollects(aggregation: WindowAggregation<never>): boolean {
  if (isCollector(aggregation)) return true;
  if ((aggregation as Aggregator).kind === 'aggregate') return false;
  return Object.values(aggregation as Record<string, Aggregator | Collector>).some(isCollector);
}

function checkInteger(window: string, field: string, value: unknown, minimum: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) {
    throw new InvalidWindowDefinitionError(window, field, `must be an integer ≥ ${minimum}, got ${String(value)}`);
  }
  return value;
}

function checkCommon<In>(window: string, options: WindowOptionsBase<In>): void {
  const aggregation = options.aggregate as unknown;
  if (typeof aggregation !== 'object' || aggregation === null) {
    throw new InvalidWindowDefinitionError(window, 'aggregate', 'give an aggregation such as mean(...) or { avg: mean(...), n: count() }');
  }
  const kind = (aggregation as { kind?: unknown }).kind;
  if (kind !== 'aggregate' && kind !== 'collect') {
    const columns = Object.entries(aggregation as Record<string, unknown>);
    if (columns.length === 0) throw new InvalidWindowDefinitionError(window, 'aggregate', 'no aggregation given');
    for (const [column, agg] of columns) {
      if (column === 'start' || column === 'end') throw new InvalidWindowDefinitionError(window, `aggregate.${column}`, '"start" and "end" are reserved result names');
      const k = (agg as { kind?: unknown } | null)?.kind;
      if (k !== 'aggregate' && k !== 'collect') throw new InvalidWindowDefinitionError(window, `aggregate.${column}`, 'not an aggregation (use count(), sum(), mean(), ...)');
    }
  }
  if (options.emit !== undefined && options.emit !== 'current' && options.emit !== 'final') {
    throw new InvalidWindowDefinitionError(window, 'emit', `must be "current" or "final", got ${String(options.emit)}`);
  }
  if (options.emit === 'current' && aggregationCollects(options.aggregate as WindowAggregation<never>)) {
    throw new InvalidWindowDefinitionError(window, 'emit', 'collect() needs emit "final": collected values are only listed when a window closes');
  }
  if (options.to !== undefined && (typeof options.to !== 'string' || options.to.length === 0)) {
    throw new InvalidWindowDefinitionError(window, 'to', 'must be a topic name');
  }
}

function checkTime<In>(window: string, options: TimeWindowOptions<In>): void {
  checkCommon(window, options);
  checkInteger(window, 'durationMs', options.durationMs, 1);
  checkInteger(window, 'graceMs', options.graceMs ?? 0, 0);
  if (options.closeBy !== undefined && options.closeBy !== 'key' && options.closeBy !== 'partition') {
    throw new InvalidWindowDefinitionError(window, 'closeBy', `must be "key" or "partition", got ${String(options.closeBy)}`);
  }
}

/** Fixed, non-overlapping windows `[start, start + durationMs)` aligned to multiples of the duration. */
export function tumblingWindow<In = unknown>(options: TimeWindowOptions<In>): WindowDeclaration<In> {
  checkTime('tumblingWindow', options);
  return { ...options, type: 'tumbling', stepMs: options.durationMs };
}

/** Overlapping windows of `durationMs` starting every `stepMs` (a record belongs to `durationMs / stepMs` windows). */
export function hoppingWindow<In = unknown>(options: HoppingWindowOptions<In>): WindowDeclaration<In> {
  checkTime('hoppingWindow', options);
  checkInteger('hoppingWindow', 'stepMs', options.stepMs, 1);
  if (options.stepMs >= options.durationMs) {
    throw new InvalidWindowDefinitionError('hoppingWindow', 'stepMs', `must be below durationMs (${options.durationMs}), got ${options.stepMs}`);
  }
  return { ...options, type: 'hopping' };
}

/** Windows `[t - durationMs, t]` ending at each record (both ends inclusive), docs/semantics.md §7.4. */
export function slidingWindow<In = unknown>(options: SlidingWindowOptions<In>): WindowDeclaration<In> {
  checkCommon('slidingWindow', options);
  checkInteger('slidingWindow', 'durationMs', options.durationMs, 1);
  checkInteger('slidingWindow', 'graceMs', options.graceMs ?? 0, 0);
  const extra = options as Partial<TimeWindowOptions<In>>;
  if (extra.beforeUpdate !== undefined || extra.afterUpdate !== undefined) {
    throw new InvalidWindowDefinitionError('slidingWindow', 'beforeUpdate/afterUpdate', 'sliding windows do not support triggers');
  }
  if (extra.closeBy !== undefined && extra.closeBy !== 'key') {
    throw new InvalidWindowDefinitionError('slidingWindow', 'closeBy', 'sliding windows close by key only');
  }
  return { ...options, type: 'sliding' };
}

function checkCount<In>(window: string, options: CountWindowOptions<In>): void {
  checkCommon(window, options);
  if (typeof options.count !== 'number' || !Number.isSafeInteger(options.count) || options.count < 2) {
    throw new InvalidWindowDefinitionError(window, 'count', `Window count must be greater than 1, got ${String(options.count)}`);
  }
}

/** Consecutive windows of `count` records per key. */
export function tumblingCountWindow<In = unknown>(options: CountWindowOptions<In>): WindowDeclaration<In> {
  checkCount('tumblingCountWindow', options);
  return { ...options, type: 'tumbling-count', step: options.count };
}

/** Windows of `count` records per key, a new one every `step` records. */
export function hoppingCountWindow<In = unknown>(options: HoppingCountWindowOptions<In>): WindowDeclaration<In> {
  checkCount('hoppingCountWindow', options);
  checkInteger('hoppingCountWindow', 'step', options.step, 1);
  // A step of `count` or more would leave records in no window (or, as the count windows
  // are implemented, silently behave as tumbling): refused rather than reinterpreted.
  if (options.step >= options.count) {
    throw new InvalidWindowDefinitionError(
      'hoppingCountWindow',
      'step',
      `must be below count (${options.count}), got ${options.step}` +
        (options.step === options.count ? ': use tumblingCountWindow for consecutive windows' : ': records between windows would belong to none'),
    );
  }
  return { ...options, type: 'hopping-count' };
}

/** Windows of the last `count` records per key, one per record (hopping with step 1). */
export function slidingCountWindow<In = unknown>(options: CountWindowOptions<In>): WindowDeclaration<In> {
  checkCount('slidingCountWindow', options);
  return { ...options, type: 'hopping-count', step: 1 };
}

/**
 * Sessions per key: a session grows while records keep arriving within
 * `inactivityGapMs` of it and closes once the key's event time passes its last record
 * by more than gap + grace. A record within the gap of two sessions merges them
 * (aggregators need `merge`; every built-in has one, `reduce` when given one).
 * A record within the gap of a closed session is late (its session is final), so the
 * sessions of one key never overlap.
 * Results: `start` = first record time, `end` = last record time (inclusive).
 */
export function sessionWindow<In = unknown>(options: SessionWindowOptions<In>): WindowDeclaration<In> {
  checkCommon('sessionWindow', options);
  checkInteger('sessionWindow', 'inactivityGapMs', options.inactivityGapMs, 1);
  checkInteger('sessionWindow', 'graceMs', options.graceMs ?? 0, 0);
  const aggregation = options.aggregate as unknown as Record<string, Aggregator | Collector> | Aggregator | Collector;
  const parts: (Aggregator | Collector)[] =
    (aggregation as { kind?: unknown }).kind === undefined ? Object.values(aggregation as Record<string, Aggregator | Collector>) : [aggregation as Aggregator | Collector];
  for (const part of parts) {
    if (part.kind === 'aggregate' && part.merge === undefined) {
      throw new InvalidWindowDefinitionError('sessionWindow', 'aggregate', `${part.name} cannot merge sessions: give reduce(...) a merge function`);
    }
  }
  return { ...options, type: 'session' };
}

/** Function suffix of store names (docs/semantics.md §7.8): `sum`, `mean`, ...; none for several. */
export function aggregationSuffix(aggregation: WindowAggregation<never>): string | undefined {
  const kind = (aggregation as { kind?: unknown }).kind;
  if (kind === 'aggregate' || kind === 'collect') return (aggregation as Aggregator | Collector).name.toLowerCase();
  return undefined;
}

/**
 * Store name of a declared window (docs/semantics.md §7.8): `<name>_tumbling_window_<D>`,
 * `<name>_hopping_window_<D>_<S>`, `<name>_sliding_window_<D>`,
 * `<name>_{tumbling,hopping}_count_window`, `<name>_session_window_<gap>`, plus
 * `_<func>` for a single aggregation. Changing the window's kind or size changes the store.
 */
export function windowStoreName(name: string, declaration: WindowDeclaration<never>): string {
  let base: string;
  switch (declaration.type) {
    case 'tumbling':
      base = `tumbling_window_${declaration.durationMs}`;
      break;
    case 'hopping':
      base = `hopping_window_${declaration.durationMs}_${declaration.stepMs}`;
      break;
    case 'sliding':
      base = `sliding_window_${declaration.durationMs}`;
      break;
    case 'tumbling-count':
      base = 'tumbling_count_window';
      break;
    case 'hopping-count':
      base = declaration.step === 1 ? 'sliding_count_window' : 'hopping_count_window';
      break;
    case 'session':
      base = `session_window_${declaration.inactivityGapMs}`;
      break;
  }
  const suffix = aggregationSuffix(declaration.aggregate);
  return `${name}_${base}${suffix === undefined ? '' : `_${suffix}`}`;
}
