/**
 * Applies a declared {@link WindowAggregation} to window state (docs/semantics.md §7.6): one
 * aggregator stores its state directly; several store `{"<column>/<Name>": state}` so
 * changing one aggregator resets only its own state; collect-only windows store `null`
 * (their values live in `__values__`).
 */
import type { Aggregator, Collector, WindowAggregation } from '../../shared/pipeline/windows.js';

type Part = Aggregator<unknown, unknown, unknown> | Collector<unknown>;

/** See the module comment. */
export class WindowAggregationRunner {
  /** `undefined` column: the single-aggregation form. */
  readonly #parts: { column: string | undefined; stateKey: string; part: Part }[];
  readonly #single: boolean;
  /** Whether values are collected. */
  readonly collects: boolean;
  /** True when the window state holds no aggregate (only collectors). */
  readonly collectOnly: boolean;
  readonly #collector: Collector<unknown> | undefined;

  constructor(aggregation: WindowAggregation<never>) {
    const kind = (aggregation as { kind?: unknown }).kind;
    this.#single = kind === 'aggregate' || kind === 'collect';
    const entries: [string | undefined, Part][] = this.#single
      ? [[undefined, aggregation as Part]]
      : Object.entries(aggregation as Record<string, Part>);
    this.#parts = entries.map(([column, part]) => ({ column, stateKey: `${column ?? ''}/${part.name}`, part }));
    const collectors = this.#parts.filter((p) => p.part.kind === 'collect');
    this.collects = collectors.length > 0;
    this.collectOnly = collectors.length === this.#parts.length;
    // All collect columns list the same stored values, projected by the first collector.
    this.#collector = collectors[0]?.part as Collector<unknown> | undefined;
  }

  /** The collected form of a record value. */
  project(value: unknown): unknown {
    return this.#collector === undefined ? value : this.#collector.project(value);
  }

  /** State of a fresh window. */
  initialize(): unknown {
    if (this.collectOnly) return null;
    if (this.#single) return (this.#parts[0]!.part as Aggregator).initialize();
    const state: Record<string, unknown> = {};
    for (const { stateKey, part } of this.#parts) if (part.kind === 'aggregate') state[stateKey] = part.initialize();
    return state;
  }

  /** State after adding one record. */
  aggregate(state: unknown, value: unknown, timestamp: number): unknown {
    if (this.collectOnly) return null;
    if (this.#single) return (this.#parts[0]!.part as Aggregator).aggregate(state, value, timestamp);
    const current = (state ?? {}) as Record<string, unknown>;
    const next: Record<string, unknown> = {};
    for (const { stateKey, part } of this.#parts) {
      if (part.kind !== 'aggregate') continue;
      const own = stateKey in current ? current[stateKey] : part.initialize();
      next[stateKey] = part.aggregate(own, value, timestamp);
    }
    return next;
  }

  /** Combined state of two session windows. */
  merge(older: unknown, newer: unknown): unknown {
    if (this.collectOnly) return null;
    const mergeOne = (part: Aggregator, a: unknown, b: unknown): unknown => part.merge!(a, b);
    if (this.#single) return mergeOne(this.#parts[0]!.part as Aggregator, older, newer);
    const a = (older ?? {}) as Record<string, unknown>;
    const b = (newer ?? {}) as Record<string, unknown>;
    const next: Record<string, unknown> = {};
    for (const { stateKey, part } of this.#parts) {
      if (part.kind !== 'aggregate') continue;
      next[stateKey] = mergeOne(part, stateKey in a ? a[stateKey] : part.initialize(), stateKey in b ? b[stateKey] : part.initialize());
    }
    return next;
  }

  /**
   * What a trigger and the result see: the single result (or the collected list), or
   * `{column: result}` for several.
   */
  view(state: unknown, collected: readonly unknown[]): unknown {
    return this.#result(state, collected);
  }

  /**
   * The window's current result from its stored state alone, for interactive queries:
   * as {@link view}, but `collect()` columns (whose values are stored apart) are left out;
   * `undefined` for a single `collect()`.
   */
  aggregates(state: unknown): unknown {
    return this.#result(state, undefined);
  }

  /** The result; without `collected`, `collect()` columns are left out (a single one gives `undefined`). */
  #result(state: unknown, collected: readonly unknown[] | undefined): unknown {
    if (this.#single) {
      const part = this.#parts[0]!.part;
      if (part.kind === 'collect') return collected;
      return part.result(state);
    }
    const current = (state ?? {}) as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const { column, stateKey, part } of this.#parts) {
      if (part.kind === 'collect') {
        if (collected !== undefined) out[column!] = collected;
      } else {
        out[column!] = part.result(stateKey in current ? current[stateKey] : part.initialize());
      }
    }
    return out;
  }

  /** Result payload `{start, end, ...}`: column `value` for a single aggregation. */
  payload(start: number, end: number, state: unknown, collected: readonly unknown[]): Record<string, unknown> {
    const view = this.view(state, collected);
    return this.#single ? { start, end, value: view } : { start, end, ...(view as Record<string, unknown>) };
  }
}
