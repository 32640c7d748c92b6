/**
 * Session windows per key (not in Quix Streams; asked for by its users). A session
 * is a run of records of one key with no gap longer than `inactivityGapMs` between
 * them. A record within the gap of a session joins it (widening it); a record within
 * the gap of two sessions merges them. A session closes once the key's event time
 * (max seen) passes `lastRecord + gap + grace`.
 *
 * Lateness (weir's decision, docs/windows.md): a record is late when its own session
 * would already be closed, or when it is within the gap of a closed session — that
 * session is final, and the record belongs to it — so the sessions of one key never
 * overlap. Sessions close in the order of their last records, so the newest closed
 * session (kept per key in the expiration index as `[start, last]`) is the only one a
 * record with an open session of its own can touch.
 *
 * Stored as windows `prefix|BE64(first)|BE64(last + 1)` (end exclusive, so a single
 * record is a valid window) with the aggregation state; collected values under their
 * timestamps, so a merged session's values are simply the ids in its range.
 */
import type { LateRecord, WindowDeclaration } from '../../shared/pipeline/windows.js';
import { reportLate } from './late-records.js';
import { EXPIRATION_INDEX_CF, EXPIRED_START_KEY } from '../state/window-keys.js';
import { WindowAggregationRunner } from './window-aggregation.js';
import type { WarningSink, WindowInput, WindowOperator, WindowOutput, WindowResult } from './window-operator.js';
import type { WindowedTransaction } from '../state/windowed-transaction.js';

type SessionDeclaration = Extract<WindowDeclaration<never>, { type: 'session' }>;

/** See the module comment. */
export class SessionWindowOperator implements WindowOperator {
  readonly #gap: number;
  readonly #grace: number;
  readonly #aggregation: WindowAggregationRunner;
  readonly #onLate: ((late: LateRecord<never>) => boolean | void) | undefined;

  constructor(
    readonly storeName: string,
    declaration: SessionDeclaration,
    private readonly warn: WarningSink,
  ) {
    this.#gap = declaration.inactivityGapMs;
    this.#grace = declaration.graceMs ?? 0;
    this.#aggregation = new WindowAggregationRunner(declaration.aggregate);
    this.#onLate = declaration.onLate?.bind(declaration);
  }

  async process(windows: WindowedTransaction, record: WindowInput): Promise<WindowOutput> {
    const { prefix, value, timestamp: t } = record;
    const gap = this.#gap;
    const agg = this.#aggregation;
    const now = Math.max(t, await windows.getLatestTimestamp(prefix));
    /** Sessions whose `last + gap` is below this are closed. */
    const closeBound = now - this.#grace;
    const sessions = await windows.getWindows(-1, Number.MAX_SAFE_INTEGER - 1, prefix);
    const isOpen = (last: number): boolean => last + gap >= closeBound;

    const joined = sessions.filter((s) => isOpen(s.end - 1) && s.start <= t + gap && s.end - 1 >= t - gap);
    const closed = await this.#newestClosed(windows, prefix);
    const updated: WindowResult[] = [];
    if ((joined.length === 0 && t + gap < closeBound) || (closed !== undefined && t - gap <= closed[1])) {
      // The session it touches if that is the newest closed one, else the one it would form.
      const touched = closed !== undefined && t - gap <= closed[1] && t + gap >= closed[0];
      const [start, last] = touched ? closed : [t, t];
      reportLate(this.#onLate, this.warn, this.storeName, record, closeBound - (last + gap), start, last, true);
    } else {
      let start = t;
      let last = t;
      let state: unknown = undefined;
      for (const s of joined) {
        start = Math.min(start, s.start);
        last = Math.max(last, s.end - 1);
        state = state === undefined ? s.value : agg.merge(state, s.value);
        windows.deleteWindow(s.start, s.end, prefix);
      }
      const next = agg.aggregate(state === undefined ? agg.initialize() : state, value, t);
      await windows.updateWindow(start, last + 1, next, t, prefix);
      if (agg.collects) windows.addToCollection(agg.project(value), t, prefix);
      if (!agg.collects) updated.push({ prefix, start, end: last, payload: agg.payload(start, last, next, []) });
    }

    // Closed sessions are emitted and deleted here directly, not through the
    // expiration index: a record joining an open session may extend it back to (or
    // before) the start of a session that closed earlier, and an index of "starts
    // already expired" would then hide the merged session forever.
    const expired = await this.#close(
      windows,
      prefix,
      sessions.filter((s) => !joined.includes(s) && !isOpen(s.end - 1)),
    );
    return { updated, expired };
  }

  /** The key's newest closed session `[start, last]`, if one was closed since weir kept it. */
  async #newestClosed(windows: WindowedTransaction, prefix: Uint8Array): Promise<[number, number] | undefined> {
    const stored = await windows.transaction.getAsync(EXPIRED_START_KEY, prefix, undefined, EXPIRATION_INDEX_CF);
    return Array.isArray(stored) ? (stored as [number, number]) : undefined;
  }

  /** Emits and deletes `sessions` (closed), remembering the newest as the key's closed marker. */
  async #close(windows: WindowedTransaction, prefix: Uint8Array, sessions: readonly { start: number; end: number; value: unknown }[]): Promise<WindowResult[]> {
    const agg = this.#aggregation;
    const expired: WindowResult[] = [];
    let newest: [number, number] | undefined;
    for (const s of sessions) {
      const collected = agg.collects ? await windows.getFromCollection(s.start, s.end, prefix) : [];
      expired.push({ prefix, start: s.start, end: s.end - 1, payload: agg.payload(s.start, s.end - 1, s.value, collected) });
      windows.deleteWindow(s.start, s.end, prefix);
      if (agg.collects) await windows.deleteFromCollection(s.end, prefix, s.start);
      if (newest === undefined || s.end - 1 > newest[1]) newest = [s.start, s.end - 1];
    }
    if (newest !== undefined) {
      const previous = await this.#newestClosed(windows, prefix);
      if (previous === undefined || newest[1] > previous[1]) windows.transaction.set(EXPIRED_START_KEY, newest, prefix, EXPIRATION_INDEX_CF);
    }
    return expired;
  }

  async closeAll(windows: WindowedTransaction): Promise<WindowResult[]> {
    const out: WindowResult[] = [];
    for (const prefix of await windows.windowPrefixes()) {
      const sessions = await windows.getWindows(-1, Number.MAX_SAFE_INTEGER - 1, prefix);
      if (sessions.length === 0) continue;
      out.push(...(await this.#close(windows, prefix, sessions)));
      // The key's clock as if a record had come just after the newest session's close:
      // a record at or before its last + gap is late, a later one starts a new session.
      const last = Math.max(...sessions.map((s) => s.end - 1));
      await windows.advanceLatestTimestamp(last + this.#gap + this.#grace + 1, prefix);
    }
    return out;
  }
}
