/**
 * The user-facing pipeline API: a module whose default export is the result of
 * `definePipeline({...})`. It declares the stores it uses, the windows to compute,
 * and a processing function that runs in a worker thread for every record of the
 * partitions that worker owns.
 */
import { InvalidWindowDefinitionError, windowStoreName, type WindowDeclaration } from './windows.js';
import { InvalidStoreNameError } from '../errors/state-errors.js';
import { isPathSafeName, PATH_SAFE_NAME_RULE } from '../path-safe-names.js';

// Window declarations and aggregations belong to the same user API ('weir/pipeline').
export * from './windows.js';

/** A JSON value as stored in state and carried in records. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A record handed to the processing function; key and value are decoded JSON. */
export interface InputRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: JsonValue | undefined;
  readonly value: JsonValue | undefined;
  readonly timestamp: number;
  /** Header values decoded as UTF-8. */
  readonly headers: Readonly<Record<string, string>>;
  /** The raw key bytes (null for records without a key). */
  readonly rawKey: Uint8Array | null;
}

/** Key-value state bound to the message key of the record being processed. */
export interface KeyValueState {
  /** The value, `defaultValue` when absent. The key must have been preloaded or written in this checkpoint. */
  get<T extends JsonValue = JsonValue>(key: JsonValue, defaultValue?: T): T | undefined;
  /**
   * Sets `key`. With `ttlMs`, the key expires `ttlMs` after the current record's
   * timestamp: records at or after that time read it as missing, and a later checkpoint
   * deletes it from the store and its changelog. Without, it never expires (a TTL set
   * before is dropped). See docs/ttl.md.
   */
  set(key: JsonValue, value: JsonValue, options?: { readonly ttlMs?: number }): void;
  delete(key: JsonValue): void;
  exists(key: JsonValue): boolean;
  /** Like `get` but reads the database when the key was not preloaded (slower: one read per call). */
  getAsync<T extends JsonValue = JsonValue>(key: JsonValue, defaultValue?: T): Promise<T | undefined>;
}

/** A record emitted to an output topic. */
export interface OutputRecord {
  readonly key?: JsonValue | null;
  readonly value: JsonValue;
  readonly headers?: Readonly<Record<string, string>>;
  /** Defaults to the input record's timestamp. */
  readonly timestamp?: number;
}

/**
 * Values of the current record's key by event time (a timestamped store). The building
 * block of as-of joins: store the records of one topic with `set(record.timestamp,
 * value)`, and look up `getLatest(record.timestamp)` for the records of another.
 */
export interface TimestampedState {
  /** Stores `value` at `timestamp` (with `keepDuplicates: false`, replaces a value at the same time). */
  set(timestamp: number, value: JsonValue): Promise<void>;
  /** The value with the greatest timestamp ≤ `timestamp` within the store's grace of the key's newest write. */
  getLatest<T extends JsonValue = JsonValue>(timestamp: number): Promise<T | undefined>;
  /** Values with timestamps in `[start, end)`, oldest first. */
  getInterval<T extends JsonValue = JsonValue>(start: number, end: number): Promise<T[]>;
}

/** A timestamped store: values by key and time, kept for `graceMs` behind each key's newest write. */
export interface TimestampedStoreDeclaration {
  /** Retention behind each key's newest timestamp (default 7 days). */
  readonly graceMs?: number;
  /** Keep several values at one timestamp (default false: the last write wins). */
  readonly keepDuplicates?: boolean;
}

/**
 * What `process` can do for the record it was given. The context acts for the record being
 * processed: use it inside `process` (after its awaits too), not once `process` has returned
 * or its promise has settled (weir hands the same context to the next record).
 */
export interface ProcessingContext {
  /** State of a declared store for the current record's key; `store` may be omitted when one store is declared. */
  state(store?: string): KeyValueState;
  /** A declared timestamped store for the current record's key. */
  timestamped(store: string): TimestampedState;
  /** Emit a record to an output topic declared in the config (`output.topics`). */
  emit(topic: string, record: OutputRecord): void;
}

export interface StoreDeclaration {
  /**
   * State keys the processing function reads for a record. weir loads all of them for a
   * whole batch of records in one database call before the function runs, so `get` is
   * synchronous and fast. A function may decide per record.
   */
  readonly preload?: readonly JsonValue[] | ((record: InputRecord) => readonly JsonValue[]);
}

/**
 * Declared windows by name (see `shared/pipeline/windows.ts`: `tumblingWindow`,
 * `hoppingWindow`, `slidingWindow`, `tumblingCountWindow`, `hoppingCountWindow`,
 * `slidingCountWindow`, `sessionWindow`). weir feeds every input record that has a key
 * to each of them, keeps their state in a store of its own (changelogged and
 * recovered like any store, named by `windowStoreName`), and emits their results to
 * the window's `to` topic as `{ key: message key, value: { start, end, ...results } }`
 * with the window start as timestamp. Records without a key are not windowed.
 */
export type WindowDeclarations = Readonly<Record<string, WindowDeclaration<never>>>;

export interface PipelineDefinition {
  /** Key-value stores by name. */
  readonly stores?: Readonly<Record<string, StoreDeclaration>>;
  /** Windows by name; see {@link WindowDeclarations}. */
  readonly windows?: WindowDeclarations;
  /** Timestamped stores by name; see {@link TimestampedState}. */
  readonly timestampedStores?: Readonly<Record<string, TimestampedStoreDeclaration>>;
  /** Runs for every input record; may be async, but a synchronous function is faster. */
  process(record: InputRecord, context: ProcessingContext): void | Promise<void>;
}

/** What {@link definePipeline} accepts: like {@link PipelineDefinition}, `process` optional when windows do the work. */
export type PipelineInput = Omit<PipelineDefinition, 'process'> & Partial<Pick<PipelineDefinition, 'process'>>;

/** The `process` of a pipeline that declares none (windows do its work); the worker then skips the call. */
export const NO_PROCESSING = (): void => undefined;

/**
 * A store name becomes the directory `<state.dir>/<appId>/<store>/…` and part of the
 * changelog topic name, so `../../x` would write (and `weir state clear` would need to
 * delete) outside the state directory, and `a b` is no topic name.
 */
function checkStoreName(storeName: string, kind: InvalidStoreNameError['kind'], declaredName: string = storeName): void {
  if (!isPathSafeName(storeName)) throw new InvalidStoreNameError(storeName, kind, declaredName, PATH_SAFE_NAME_RULE);
}

/**
 * Declare a pipeline (gives type checking to users). Checks that every store name
 * (key-value, timestamped, and the names derived from windows) is path-safe and that
 * window store names do not collide with other store names; `process` defaults to
 * doing nothing.
 * @throws InvalidStoreNameError naming the store; InvalidWindowDefinitionError.
 */
export function definePipeline(definition: PipelineInput): PipelineDefinition {
  for (const name of Object.keys(definition.stores ?? {})) checkStoreName(name, 'store');
  const stores = new Set(Object.keys(definition.stores ?? {}));
  for (const [name, declaration] of Object.entries(definition.timestampedStores ?? {})) {
    checkStoreName(name, 'timestamped store');
    if (stores.has(name)) throw new InvalidWindowDefinitionError(name, 'name', 'a timestamped store and a key-value store share this name');
    const grace = declaration.graceMs;
    if (grace !== undefined && (!Number.isSafeInteger(grace) || grace < 0)) {
      throw new InvalidWindowDefinitionError(name, 'graceMs', `must be an integer ≥ 0, got ${String(grace)}`);
    }
    stores.add(name);
  }
  for (const [name, declaration] of Object.entries(definition.windows ?? {})) {
    const store = windowStoreName(name, declaration);
    checkStoreName(store, 'window', name);
    if (stores.has(store)) throw new InvalidWindowDefinitionError(name, 'name', `its store "${store}" is also declared in stores`);
  }
  return { ...definition, process: definition.process ?? NO_PROCESSING };
}

/** Names of the stores of the declared windows, by window name. */
export function windowStoreNames(definition: PipelineDefinition): Map<string, string> {
  return new Map(Object.entries(definition.windows ?? {}).map(([name, declaration]) => [name, windowStoreName(name, declaration)]));
}

/** Store names of a definition (key-value stores and window stores), sorted. */
export function storeNames(definition: PipelineDefinition): string[] {
  return [
    ...new Set([...Object.keys(definition.stores ?? {}), ...Object.keys(definition.timestampedStores ?? {}), ...windowStoreNames(definition).values()]),
  ].sort();
}
