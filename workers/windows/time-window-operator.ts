/**
 * Tumbling and hopping time windows (docs/semantics.md §7.3) with grace, late-record reporting,
 * before/after-update triggers and the key or partition closing strategy.
 *
 * Triggers (weir's decisions, docs/windows.md): a window closed by a trigger is final.
 * `beforeUpdate` is consulted only for an existing window; when it fires, the record
 * opens a new window of the same range. A re-created window aggregates and lists only
 * records after the trigger: aggregates start afresh, and collected values (shared by
 * overlapping windows, so not deleted) are filtered by a per-window mark holding the
 * counter of the last value the closed window listed. Every record advances its key's
 * clock, whether or not a trigger closed its windows.
 */
import type { WindowDeclaration, WindowTrigger, LateRecord } from '../../shared/pipeline/windows.js';
import { reportLate } from './late-records.js';
import { WindowAggregationRunner } from './window-aggregation.js';
import type { ProcessOptions, WarningSink, WindowInput, WindowOperator, WindowOutput, WindowResult } from './window-operator.js';
import { checkWindowTimestamp, type ExpiredWindow, type WindowedTransaction } from '../state/windowed-transaction.js';
import { pairUserKey, TRIGGER_MARKS_CF } from '../state/window-keys.js';
import { byteKeyId } from '../state/byte-key-id.js';

type TimeDeclaration = Extract<WindowDeclaration<never>, { type: 'tumbling' | 'hopping' }>;

const NOTHING_COLLECTED: readonly unknown[] = Object.freeze([]);

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
  /** Collecting with triggers: collected values are filtered by trigger marks. */
  readonly #marks: boolean;
  /** Key closing, no triggers, nothing collected: a record whose key is in memory needs no promise. */
  readonly #synchronous: boolean;


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
    this.#marks = this.#aggregation.collects && (this.#before !== undefined || this.#after !== undefined);
    this.#synchronous = !this.#partitionClosing && this.#before === undefined && this.#after === undefined && !this.#aggregation.collects;
  }

  /**
   * The windows containing `t` are `[start, start + duration)` for `start` from
   * {@link #oldestStart} to this by `step` (as windowRanges computes them, without its
   * tuples), none starting below 0.
   */
  #newestStart(t: number): number {
    return t - (t % this.#rangeStep);
  }

  /** The step between window starts; a declared step of 0 means tumbling. */
  get #rangeStep(): number {
    return this.#step > 0 ? this.#step : this.#duration;
  }

  /** See {@link #newestStart}; above it when no window contains `t`. */
  #oldestStart(t: number): number {
    const step = this.#rangeStep;
    let oldest = this.#newestStart(t);
    if (!(oldest > t - this.#duration && oldest >= 0)) return oldest + step;
    while (oldest - step > t - this.#duration && oldest - step >= 0) oldest -= step;
    return oldest;
  }

  /** True if some window end `k·step + duration` lies in `(from, to]`. */
  #hasEndIn(from: number, to: number): boolean {
    const k = Math.floor((to - this.#duration) / this.#step);
    return k >= 0 && k * this.#step + this.#duration > from;
  }

  /** The window's collected values after its trigger mark (if any) and below `before`. */
  async #collected(windows: WindowedTransaction, prefix: Uint8Array, start: number, end: number, before?: number): Promise<unknown[]> {
    const mark = (await windows.transaction.getAsync(pairUserKey(prefix, start, end), prefix, undefined, TRIGGER_MARKS_CF)) as number | undefined;
    return windows.getFromCollection(start, end, prefix, { after: mark, before });
  }

  #closeByTrigger(windows: WindowedTransaction, prefix: Uint8Array, start: number, end: number, lastListed: number): void {
    windows.deleteWindow(start, end, prefix);
    if (this.#marks) windows.transaction.set(pairUserKey(prefix, start, end), lastListed, prefix, TRIGGER_MARKS_CF);
  }

  /** Deletes the trigger marks of `prefix` for windows starting at or before `maxStart` (they are closed). */
  async #dropMarks(windows: WindowedTransaction, prefix: Uint8Array, maxStart: number): Promise<void> {
    if (!this.#marks) return;
    for (const [key] of await windows.transaction.getItems(0, maxStart + 1, prefix, false, TRIGGER_MARKS_CF)) {
      windows.transaction.delete(key.subarray(prefix.length === 0 ? 0 : prefix.length + 1), prefix, TRIGGER_MARKS_CF);
    }
  }

  /** Without a promise when the record's key is in memory and nothing async is declared ({@link #processNow}). */
  process(windows: WindowedTransaction, record: WindowInput, options: ProcessOptions = {}): WindowOutput | Promise<WindowOutput> {
    if (this.#synchronous && windows.isInMemory(record.prefix)) return this.#processNow(windows, record, options);
    return this.#process(windows, record, options);
  }

  /**
   * {@link #process} for the common case, as its same reads and writes in the same order,
   * without async frames: key closing, no triggers, nothing collected ({@link #synchronous}),
   * and the key's windows, clock and expiration index in memory (every record of a key but
   * its first in a checkpoint).
   */
  #processNow(windows: WindowedTransaction, record: WindowInput, options: ProcessOptions): WindowOutput {
    const { prefix, value, timestamp: t } = record;
    const duration = this.#duration;
    const aggregation = this.#aggregation;
    const reportUpdates = options.updates !== false;
    const step = this.#rangeStep;
    const latest = windows.latestTimestampNow(prefix);
    const maxExpiredEnd = Math.max(t, latest) - this.#grace;
    const maxExpiredStart = maxExpiredEnd - duration;
    const newest = this.#newestStart(t);
    const oldest = this.#oldestStart(t);
    const updated: WindowResult[] = [];
    // Late windows are the oldest: reported first, as the window-by-window loop of #process does.
    let first = oldest;
    for (; first <= newest && first <= maxExpiredStart; first += step) {
      reportLate(this.#onLate, this.warn, this.storeName, record, maxExpiredEnd - t, first, first + duration);
    }
    if (first <= newest) {
      checkWindowTimestamp(t); // as updateWindow would
      windows.updateLoadedWindows(prefix, first, newest, step, duration, (stored, start, end) => {
        const next = aggregation.aggregate(stored !== undefined ? stored : aggregation.initialize(), value, t);
        if (reportUpdates) updated.push({ prefix, start, end, payload: aggregation.payload(start, end, next, NOTHING_COLLECTED) });
        return next;
      });
    }
    windows.advanceLatestTimestampNow(t, prefix, latest);
    const expired: WindowResult[] = [];
    for (const w of windows.expireLoadedNow(maxExpiredStart, prefix)!) expired.push(this.#result(w, w.collected));
    return { updated, expired };
  }

  async #process(windows: WindowedTransaction, record: WindowInput, options: ProcessOptions): Promise<WindowOutput> {
    const { prefix, value, timestamp: t } = record;
    const duration = this.#duration;
    const aggregation = this.#aggregation;
    const reportUpdates = options.updates !== false && !aggregation.collects;
    const step = this.#rangeStep;
    const newest = this.#newestStart(t);
    const oldest = this.#oldestStart(t);

    let now: number;
    /** The key's clock as read here (key closing), so moving it after the windows need not read it again. */
    let latest: number | undefined;
    if (this.#partitionClosing) {
      // Decision (docs/semantics.md §7.3 quirk): the clock is the partition marker + grace, i.e. the
      // newest time seen when the marker last moved, so a window already expired by the
      // partition scan can never be re-created by a record within grace of the marker.
      const marker = await windows.getPartitionExpiredEnd();
      now = marker === undefined ? t : Math.max(t, marker + this.#grace);
    } else {
      latest = await windows.getLatestTimestamp(prefix);
      now = Math.max(t, latest);
    }
    const maxExpiredEnd = now - this.#grace;
    const maxExpiredStart = maxExpiredEnd - duration;

    // Collected before the windows are updated, so a trigger sees the record in
    // timestamp order among the window's values (once per record, even when late).
    const counter = aggregation.collects ? Number(windows.addToCollection(aggregation.project(value), t, prefix)) : -1;

    const updated: WindowResult[] = [];
    const triggered: WindowResult[] = [];
    const triggers = this.#before !== undefined || this.#after !== undefined;
    // With triggers, the first window update moves the key's clock (updateWindow), and
    // later ones need not. Without, no store call comes between the window writes, so
    // the clock moves once, after them: the same reads and writes of the transaction.
    let clocked = false;
    let checked = false;
    if (oldest <= newest) {
      // The key's windows in memory: each is then read without a snapshot.
      await windows.loadWindows(prefix);
      for (let start = oldest; start <= newest; start += step) {
        const end = start + duration;
        if (start <= maxExpiredStart) {
          reportLate(this.#onLate, this.warn, this.storeName, record, maxExpiredEnd - t, start, end);
          continue;
        }
        const stored = windows.loadedWindow(start, end, prefix);
        const found = stored !== undefined;
        let current = found ? stored : aggregation.initialize();
        if (this.#before !== undefined && found) {
          const without = this.#marks ? await this.#collected(windows, prefix, start, end, counter) : [];
          if (this.#before(aggregation.view(current, without), value, record.key, t, record.headers) === true) {
            triggered.push({ prefix, start, end, payload: aggregation.payload(start, end, current, without) });
            // The record opens the window's successor: values up to it (excluded) were listed.
            this.#closeByTrigger(windows, prefix, start, end, counter - 1);
            current = aggregation.initialize();
          }
        }
        const next = aggregation.aggregate(current, value, t);
        if (this.#after !== undefined) {
          const withValue = this.#marks ? await this.#collected(windows, prefix, start, end) : [];
          if (this.#after(aggregation.view(next, withValue), value, record.key, t, record.headers) === true) {
            triggered.push({ prefix, start, end, payload: aggregation.payload(start, end, next, withValue) });
            this.#closeByTrigger(windows, prefix, start, end, counter);
            continue;
          }
        }
        if (clocked) {
          windows.setWindow(start, end, next, prefix);
        } else if (triggers) {
          await windows.updateWindow(start, end, next, t, prefix);
          clocked = true;
        } else {
          if (!checked) checkWindowTimestamp(t); // as updateWindow would
          checked = true;
          windows.setWindow(start, end, next, prefix);
        }
        if (reportUpdates) updated.push({ prefix, start, end, payload: aggregation.payload(start, end, next, []) });
      }
    }
    // Decision: event time moves with every record, also when triggers closed all its windows.
    if (!clocked) await windows.advanceLatestTimestamp(t, prefix, latest);

    const expired: WindowResult[] = [];
    const expiring = this.#partitionClosing
      ? windows.expireAllWindows(maxExpiredEnd, (from, to) => this.#hasEndIn(from, to), { collect: aggregation.collects && !this.#marks })
      : await windows.expireWindowsNow(maxExpiredStart, prefix, { collect: aggregation.collects && !this.#marks });
    if (Array.isArray(expiring) && !aggregation.collects) {
      // Nothing collected, so no collected values or trigger marks to drop: the results alone, without async frames.
      for (const w of expiring as readonly ExpiredWindow[]) expired.push(this.#result(w, w.collected));
    } else if (!Array.isArray(expiring) || expiring.length > 0) {
      await this.#emitExpired(windows, expiring, expired);
    }
    for (const result of triggered) expired.push(result);
    return { updated, expired };
  }

  /** The final result of an expired window. */
  #result(w: ExpiredWindow, collected: unknown[]): WindowResult {
    return { prefix: w.prefix, start: w.start, end: w.end, payload: this.#aggregation.payload(w.start, w.end, w.value, collected) };
  }

  /** Emits expiring windows into `out`, then drops collected values and trigger marks no open window needs. */
  async #emitExpired(
    windows: WindowedTransaction,
    expiring: AsyncIterable<ExpiredWindow> | readonly ExpiredWindow[],
    out: WindowResult[],
    dropCollectedBelow?: number,
  ): Promise<void> {
    if (Array.isArray(expiring) && expiring.length === 0) return; // the common case: nothing expired
    const aggregation = this.#aggregation;
    const newestStart = new Map<string, { prefix: Uint8Array; start: number }>();
    const emit = (w: ExpiredWindow, collected: unknown[]): void => {
      out.push(this.#result(w, collected));
      newestStart.set(byteKeyId(w.prefix), { prefix: w.prefix, start: w.start });
    };
    if (Array.isArray(expiring)) {
      // Already expired (expireWindowsNow): no async iteration.
      for (const w of expiring as readonly ExpiredWindow[]) emit(w, this.#marks ? await this.#collected(windows, w.prefix, w.start, w.end) : w.collected);
    } else {
      for await (const w of expiring) emit(w, this.#marks ? await this.#collected(windows, w.prefix, w.start, w.end) : w.collected);
    }
    // Decision: Quix Streams keeps collected values down to the newest expired start;
    // no open window needs ids below that start + step, so they go now.
    for (const { prefix: p, start } of newestStart.values()) {
      if (aggregation.collects) await windows.deleteFromCollection(dropCollectedBelow ?? start + this.#step, p);
      await this.#dropMarks(windows, p, start);
    }
  }

  async closeAll(windows: WindowedTransaction): Promise<WindowResult[]> {
    const out: WindowResult[] = [];
    if (this.#partitionClosing) {
      // The partition marker moves to the newest window end: every window closes, and a
      // later record's clock is at least that end + grace, so none is re-created.
      let maxEnd = -1;
      for (const prefix of await windows.windowPrefixes()) {
        for (const w of await windows.getWindows(-1, Number.MAX_SAFE_INTEGER - 1, prefix)) maxEnd = Math.max(maxEnd, w.end);
      }
      if (maxEnd < 0) return out;
      await this.#emitExpired(
        windows,
        windows.expireAllWindows(maxEnd, () => true, { collect: this.#aggregation.collects && !this.#marks }),
        out,
        maxEnd,
      );
      return out;
    }
    for (const prefix of await windows.windowPrefixes()) {
      const open = await windows.getWindows(-1, Number.MAX_SAFE_INTEGER - 1, prefix);
      if (open.length === 0) continue;
      const maxStart = Math.max(...open.map((w) => w.start));
      const maxEnd = Math.max(...open.map((w) => w.end));
      await this.#emitExpired(windows, windows.expireWindows(maxStart, prefix, { collect: this.#aggregation.collects && !this.#marks }), out, maxEnd);
      // The key's clock as if a record at maxEnd + grace had arrived: every window ending
      // by maxEnd is closed for good, later ones open as usual.
      await windows.advanceLatestTimestamp(maxEnd + this.#grace, prefix);
    }
    return out;
  }
}
