/**
 * Sliding time windows (docs/semantics.md §7.4): for every record at `t`, the window `[t - D, t]`
 * (both ends inclusive) over all accepted records in it. Stored values are
 * `[max_timestamp, aggregate]`; "right" windows `[t' + 1, t' + 1 + D]` are kept so a
 * later record's left window can start from an existing aggregate. Only windows that
 * end at a record (`end == max_timestamp`) are results.
 */
import type { LateRecord, WindowDeclaration } from '../../shared/pipeline/windows.js';
import { reportLate } from './late-records.js';
import { CLOSED_THROUGH_KEY, LATEST_TIMESTAMPS_CF } from '../state/window-keys.js';
import { WindowAggregationRunner } from './window-aggregation.js';
import type { WarningSink, WindowInput, WindowOperator, WindowOutput, WindowResult } from './window-operator.js';
import type { WindowedTransaction } from '../state/windowed-transaction.js';

type SlidingDeclaration = Extract<WindowDeclaration<never>, { type: 'sliding' }>;
type SlidingValue = [number, unknown];

/** See the module comment. */
export class SlidingWindowOperator implements WindowOperator {
  readonly #duration: number;
  readonly #grace: number;
  readonly #aggregation: WindowAggregationRunner;
  readonly #onLate: ((late: LateRecord<never>) => boolean | void) | undefined;

  constructor(
    readonly storeName: string,
    declaration: SlidingDeclaration,
    private readonly warn: WarningSink,
  ) {
    this.#duration = declaration.durationMs;
    this.#grace = declaration.graceMs ?? 0;
    this.#aggregation = new WindowAggregationRunner(declaration.aggregate);
    this.#onLate = declaration.onLate?.bind(declaration);
  }

  async process(windows: WindowedTransaction, record: WindowInput): Promise<WindowOutput> {
    const { prefix, value, timestamp: t } = record;
    const D = this.#duration;
    const agg = this.#aggregation;
    const now = Math.max(t, await windows.getLatestTimestamp(prefix));
    const maxExpiredEnd = now - this.#grace - 1;
    const maxExpiredStart = maxExpiredEnd - D;
    let maxDeletedStart = maxExpiredStart - D;
    const leftStart = Math.max(0, t - D);
    const leftEnd = t;

    if (t <= maxExpiredStart) {
      reportLate(this.#onLate, this.warn, this.storeName, record, maxExpiredEnd + 1 - t, leftStart, leftEnd, true);
      return { updated: [], expired: [] };
    }
    const closedThrough = await this.#closedThrough(windows, prefix);
    if (closedThrough !== undefined && t <= closedThrough) {
      // Its window ends within the time --close-windows closed (see closeAll).
      reportLate(this.#onLate, this.warn, this.storeName, record, closedThrough + 1 - t, leftStart, leftEnd, true);
      return { updated: [], expired: [] };
    }

    const rightStart = t + 1;
    let rightExists = false;
    const starts = new Set<number>([leftStart]);
    const updated: WindowResult[] = [];
    const write = async (start: number, end: number, aggregate: unknown, maxTimestamp: number): Promise<void> => {
      await windows.updateWindow(start, end, [maxTimestamp, aggregate] satisfies SlidingValue, t, prefix, { allowPoint: true });
    };
    const result = (start: number, end: number, aggregate: unknown): WindowResult => ({
      prefix,
      start,
      end,
      payload: agg.payload(start, end, aggregate, []),
    });

    let leftDone = false;
    const existing = await windows.getWindows(Math.max(0, leftStart - D) - 1, rightStart, prefix, true);
    for (const w of existing) {
      const [maxTs, aggregate] = w.value as SlidingValue;
      starts.add(w.start);
      if (w.start === rightStart) {
        rightExists = true;
      } else if (w.end > leftEnd) {
        if (!rightExists && maxTs > t) {
          await write(rightStart, rightStart + D, aggregate, maxTs);
          rightExists = true;
        }
        if (w.start > maxExpiredStart) {
          const next = agg.aggregate(aggregate, value, t);
          // Decision: the stored max timestamp grows with the record (Quix Streams keeps the old one).
          await write(w.start, w.end, next, Math.max(maxTs, t));
          if (w.end === Math.max(maxTs, t)) updated.push(result(w.start, w.end, next));
        } else {
          reportLate(this.#onLate, this.warn, this.storeName, record, maxExpiredEnd + 1 - t, w.start, w.end, true);
        }
      } else if (w.end === leftEnd) {
        const previousRight = maxTs + 1;
        if (!starts.has(previousRight) && maxTs < t) {
          await write(previousRight, previousRight + D, agg.aggregate(agg.initialize(), value, t), t);
        }
        if (w.start > maxExpiredStart) {
          const next = agg.aggregate(aggregate, value, t);
          await write(w.start, w.end, next, t);
          updated.push(result(w.start, w.end, next));
        } else {
          reportLate(this.#onLate, this.warn, this.storeName, record, maxExpiredEnd + 1 - t, w.start, w.end, true);
        }
        leftDone = true;
        break;
      } else {
        const previousRight = maxTs + 1;
        if (!starts.has(previousRight) && previousRight + D >= t) {
          await write(previousRight, previousRight + D, agg.aggregate(agg.initialize(), value, t), t);
        }
        const base = leftStart > maxTs ? agg.initialize() : aggregate;
        const next = agg.aggregate(base, value, t);
        await write(leftStart, leftEnd, next, t);
        updated.push(result(leftStart, leftEnd, next));
        maxDeletedStart = Math.min(w.start - 1, maxExpiredStart);
        leftDone = true;
        break;
      }
    }
    if (!leftDone && leftStart > maxExpiredStart) {
      const next = agg.aggregate(agg.initialize(), value, t);
      await write(leftStart, leftEnd, next, t);
      updated.push(result(leftStart, leftEnd, next));
    }

    if (agg.collects) windows.addToCollection(agg.project(value), t, prefix);

    const expired: WindowResult[] = [];
    for await (const w of windows.expireWindows(maxExpiredStart, prefix, { delete: false, collect: agg.collects, endInclusive: true })) {
      const [maxTs, aggregate] = w.value as SlidingValue;
      if (w.end !== maxTs) continue;
      expired.push({ prefix, start: w.start, end: w.end, payload: agg.payload(w.start, w.end, aggregate, w.collected) });
    }
    await windows.deleteWindows(maxDeletedStart, agg.collects, prefix);
    return { updated: updated.reverse(), expired };
  }

  async #closedThrough(windows: WindowedTransaction, prefix: Uint8Array): Promise<number | undefined> {
    return (await windows.transaction.getAsync(CLOSED_THROUGH_KEY, prefix, undefined, LATEST_TIMESTAMPS_CF)) as number | undefined;
  }

  /**
   * Emits every record's window not yet emitted (they all start at or before
   * `max(0, L − D)`, L = the key's last record time) and marks the key closed through L:
   * a later record at or before L is late (its window would end in the closed past), a
   * later one is processed as usual. Unlike the other kinds the clock does not move: a
   * sliding window expires by its start, and a clock past L would close the windows of
   * records after L too. Windows starting at 0 are all closed at once, so a key whose
   * last record is before D is closed through D.
   */
  async closeAll(windows: WindowedTransaction): Promise<WindowResult[]> {
    const agg = this.#aggregation;
    const D = this.#duration;
    const out: WindowResult[] = [];
    for (const prefix of await windows.windowPrefixes()) {
      const stored = await windows.getWindows(-1, Number.MAX_SAFE_INTEGER - 1, prefix);
      const last = Math.max(...stored.map((w) => (w.value as SlidingValue)[0]));
      const through = Math.max(last, D);
      const previous = await this.#closedThrough(windows, prefix);
      if (previous !== undefined && through <= previous) continue; // nothing new since the last close
      for await (const w of windows.expireWindows(Math.max(0, last - D), prefix, { delete: false, collect: agg.collects, endInclusive: true })) {
        const [maxTs, aggregate] = w.value as SlidingValue;
        if (w.end !== maxTs) continue;
        out.push({ prefix, start: w.start, end: w.end, payload: agg.payload(w.start, w.end, aggregate, w.collected) });
      }
      windows.transaction.set(CLOSED_THROUGH_KEY, through, prefix, LATEST_TIMESTAMPS_CF);
    }
    return out;
  }
}
