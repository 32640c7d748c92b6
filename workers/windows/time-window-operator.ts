/**
 * Tumbling and hopping time windows (spec §7.3) with grace, late-record reporting,
 * before/after-update triggers and the key or partition closing strategy.
 */
import type { WindowDeclaration, WindowTrigger, LateRecord } from '../../shared/pipeline/windows.js';
import { reportLate } from './late-records.js';
import { WindowAggregationRunner } from './window-aggregation.js';
import type { WarningSink, WindowInput, WindowOperator, WindowOutput, WindowResult } from './window-operator.js';
import { windowRanges } from './window-ranges.js';
import type { WindowedTransaction } from './windowed-transaction.js';

type TimeDeclaration = Extract<WindowDeclaration<never>, { type: 'tumbling' | 'hopping' }>;

/** See the module comment. */
export class TimeWindowOperator implements WindowOperator {
  readonly #duration: number;
  readonly #step: number;
  readonly #grace: number;
  readonly #partitionClosing: boolean;
  readonly #aggregation: WindowAggregationRunner;
  readonly #before: WindowTrigger<unknown> | undefined;
  readonly #after: WindowTrigger<unknown> | undefined;
  readonly #onLate: ((late: LateRecord<never>) => boolean | void) | undefined;

  constructor(
    readonly storeName: string,
    declaration: TimeDeclaration,
    private readonly warn: WarningSink,
  ) {
    this.#duration = declaration.durationMs;
    this.#step = declaration.stepMs;
    this.#grace = declaration.graceMs ?? 0;
    this.#partitionClosing = declaration.closeBy === 'partition';
    this.#aggregation = new WindowAggregationRunner(declaration.aggregate);
    this.#before = declaration.beforeUpdate as WindowTrigger<unknown> | undefined;
    this.#after = declaration.afterUpdate as WindowTrigger<unknown> | undefined;
    this.#onLate = declaration.onLate?.bind(declaration);
  }

  /** True if some window end `k·step + duration` lies in `(from, to]`. */
  #hasEndIn(from: number, to: number): boolean {
    const k = Math.floor((to - this.#duration) / this.#step);
    return k >= 0 && k * this.#step + this.#duration > from;
  }

  async process(windows: WindowedTransaction, record: WindowInput): Promise<WindowOutput> {
    const { prefix, value, timestamp: t } = record;
    const duration = this.#duration;
    const aggregation = this.#aggregation;
    const ranges = windowRanges(t, duration, this.#step);

    let now: number;
    if (this.#partitionClosing) {
      // Decision (spec §7.3 quirk): the clock is the partition marker + grace, i.e. the
      // newest time seen when the marker last moved, so a window already expired by the
      // partition scan can never be re-created by a record within grace of the marker.
      const marker = await windows.getPartitionExpiredEnd();
      now = marker === undefined ? t : Math.max(t, marker + this.#grace);
    } else {
      now = Math.max(t, await windows.getLatestTimestamp(prefix));
    }
    const maxExpiredEnd = now - this.#grace;
    const maxExpiredStart = maxExpiredEnd - duration;

    const updated: WindowResult[] = [];
    const triggered: WindowResult[] = [];
    if (ranges.length > 0) {
      const stored = new Map<number, unknown>();
      for (const w of await windows.getWindows(ranges[0]![0] - 1, ranges[ranges.length - 1]![0], prefix)) {
        if (w.end === w.start + duration) stored.set(w.start, w.value);
      }
      for (const [start, end] of ranges) {
        if (start <= maxExpiredStart) {
          reportLate(this.#onLate, this.warn, this.storeName, record, maxExpiredEnd - t, start, end);
          continue;
        }
        const current = stored.has(start) ? stored.get(start) : aggregation.initialize();
        const collected = aggregation.collects && (this.#before !== undefined || this.#after !== undefined)
          ? await windows.getFromCollection(start, end, prefix)
          : [];
        if (this.#before?.(aggregation.view(current, collected), value, record.key, t, record.headers) === true) {
          triggered.push({ prefix, start, end, payload: aggregation.payload(start, end, current, collected) });
          windows.deleteWindow(start, end, prefix);
          continue;
        }
        const next = aggregation.aggregate(current, value, t);
        if (this.#after !== undefined) {
          const withValue = aggregation.collects ? [...collected, aggregation.project(value)] : collected;
          if (this.#after(aggregation.view(next, withValue), value, record.key, t, record.headers) === true) {
            triggered.push({ prefix, start, end, payload: aggregation.payload(start, end, next, withValue) });
            windows.deleteWindow(start, end, prefix);
            continue;
          }
        }
        await windows.updateWindow(start, end, next, t, prefix);
        if (!aggregation.collects) updated.push({ prefix, start, end, payload: aggregation.payload(start, end, next, []) });
      }
    }
    if (aggregation.collects) windows.addToCollection(aggregation.project(value), t, prefix);

    const expired: WindowResult[] = [];
    const expiring = this.#partitionClosing
      ? windows.expireAllWindows(maxExpiredEnd, (from, to) => this.#hasEndIn(from, to), { collect: aggregation.collects })
      : windows.expireWindows(maxExpiredStart, prefix, { collect: aggregation.collects });
    const newestStart = new Map<string, { prefix: Uint8Array; start: number }>();
    for await (const w of expiring) {
      expired.push({ prefix: w.prefix, start: w.start, end: w.end, payload: aggregation.payload(w.start, w.end, w.value, w.collected) });
      newestStart.set(Buffer.from(w.prefix).toString('latin1'), { prefix: w.prefix, start: w.start });
    }
    // Decision: the reference keeps collected values down to the newest expired start;
    // no open window needs ids below that start + step, so they go now.
    if (aggregation.collects) {
      for (const { prefix: p, start } of newestStart.values()) await windows.deleteFromCollection(start + this.#step, p);
    }
    expired.push(...triggered);
    return { updated, expired };
  }
}
