/**
 * Log compaction of the local log's `compact` topics (changelogs): Kafka's log cleaner
 * for one embedded database. Compaction keeps, per key, the latest record of a
 * partition and removes the older ones, so a changelog stays about as large as the
 * state it backs up and recovery replays each key once.
 *
 * When: a partition is due once the offsets appended since its last pass (its *dirty*
 * part, Kafka's dirty section) exceed `max(minDirtyRecords, its live records)` (a dirty
 * ratio of ~50 %, Kafka's `min.cleanable.dirty.ratio`, with a floor so small changelogs
 * are not rewritten over and over). Passes run one at a time in the background,
 * starting `backgroundDelayMs` after a partition became due while none ran;
 * `LocalLogBackend.compact()` runs them on demand.
 *
 * A pass over one partition takes the high watermark as its snapshot and, when every record
 * stored below it fits in one key set (at most `maxKeysPerPass`: the records the last pass
 * kept plus the offsets appended since), reads it once, newest first:
 * 1. steps of a few stored batches are read backwards; a record is kept unless a record
 *    met before it (a later one) has its key, or its key is null;
 * 2. each step's batches are rewritten in offset order as below (the rewrite of step 2 of
 *    the larger pass);
 * 3. the checkpoint is stored as below. Tombstones older than `deleteRetentionMs` are kept
 *    by this pass, and a forward pass right after it removes them: removing them first
 *    (they are met before the records they hide) and stopping or crashing before those
 *    records went would bring the deleted keys back.
 *
 * A larger partition (or one with expired tombstones) gets the forward pass:
 * 1. scans the dirty part (from the last pass's end to the snapshot) in bounded chunks,
 *    building key → latest offset (at most `maxKeysPerPass` keys: a larger dirty part is
 *    cleaned in several passes, as Kafka's cleaner does when its offset map is full);
 * 2. rewrites the partition below the end of that scan in bounded steps. A step reads a
 *    few stored batches and keeps each record unless a later record has its key, its
 *    key is null, or it is a tombstone older than `deleteRetentionMs` (Kafka's
 *    `delete.retention.ms`, by record timestamp). Kept records keep their offsets
 *    (their delta from the new batch's base); consecutive small batches are merged
 *    into one entry keyed by the merged range's last and base offsets, so offsets
 *    with no record left become gaps inside an entry's range, never holes between
 *    entries. Each new entry replaces the old entries of its range in one LevelDB
 *    batch through the store's write queue, so a reader sees either the old or the
 *    new entries of a range. Appends only write above the snapshot, so they go on
 *    while a pass runs, between a step's rewrites.
 * 3. records how far the partition is compacted and how many records it kept (a
 *    checkpoint key), so the next pass only scans what was appended since.
 *
 * The one-read pass reads each record once where the forward pass reads the dirty part
 * twice (to map it, then to rewrite it): when a checkpoint's changelog updates most of
 * the keys, `compact()` of 1 M records over 100 k keys took ~0.5 s instead of ~0.9 s
 * (BENCHMARKS.md, "Compaction in one read").
 *
 * Offsets never change and the low watermark stays 0. `stop()` (from `close()`) ends a
 * pass between two steps; every step is complete on its own.
 */
import type { TopicState } from './stored-topics.js';
import type { LogDatabase } from './open-log-database.js';
import {
  baseOffsetFromBatchKey,
  batchKey,
  batchSeekKey,
  compactionKey,
  lastOffsetFromBatchKey,
  writeUint64,
} from './key-layout.js';
import { batchInfo, forEachRecordKey, RecordBatchBuilder } from '../../protocol/record-batch.js';
import { LogClosedError } from '../../errors/log-errors.js';
import { chunkBytes, closeIterator } from '../../leveldb/iterator-close.js';
import { eventLoopTurn } from '../../event-loop-turn.js';

/** Default of `deleteRetentionMs`: 24 h, Kafka's `delete.retention.ms` default. */
export const DEFAULT_DELETE_RETENTION_MS = 24 * 60 * 60 * 1000;
/** Default floor of the dirty records that make a partition due. */
export const DEFAULT_MIN_DIRTY_RECORDS = 10_000;
/**
 * Default of `maxKeysPerPass`: most distinct keys one pass maps. A partition storing more
 * records gets the forward pass, and a dirty part with more keys takes several passes.
 */
export const MAX_KEYS_PER_PASS = 1_000_000;
/**
 * Stored batches one scan chunk or rewrite step reads at most. Smaller steps (256 KiB)
 * were tried for the coordinator's event-loop gaps: no change to the latency tail, and
 * 15 % less live-produce throughput (16× more iterators and rewrites in the write queue).
 */
const STEP_ENTRIES = 256;
/** Bytes one scan chunk or rewrite step reads (about; LevelDB stops after exceeding it). */
const STEP_BYTES = 4 * 1024 * 1024;
/**
 * Time a step's scan or plan runs before the event loop gets a turn. A step reads up to
 * {@link STEP_BYTES} at once (fewer, larger reads keep appends fast), and walking that many
 * records took 16 ms at the median and up to 39 ms on a busy machine, on the thread that
 * appends and routes every record (docs/local-log.md, "Compaction of `compact` topics").
 */
const SLICE_MS = 2;
/** A rewritten batch is closed once it holds this many records or bytes. */
const TARGET_BATCH_RECORDS = 1_000;
const TARGET_BATCH_BYTES = 1024 * 1024;
/** Unchanged stored batches at least this large are left alone rather than merged. */
const SMALL_BATCH_RECORDS = 250;
const SMALL_BATCH_BYTES = 256 * 1024;
/** Offset deltas are u32; a merged range never spans more. */
const MAX_RANGE = 0xffff_ffff;
/**
 * Default of `backgroundShare`: the part of the time a background pass may spend in its
 * steps (reading, planning, rewriting); it waits out the rest between steps. Kafka's log
 * cleaner is throttled the same way (`log.cleaner.io.max.bytes.per.second`).
 */
export const DEFAULT_BACKGROUND_SHARE = 0.25;
/**
 * Default of `backgroundDelayMs`: how long background compaction waits, once a partition
 * is due, before its passes start. A checkpoint's changelog append is what makes a
 * partition due, and a pass started at once ran in the same moment as the rest of that
 * checkpoint (its state flush, the appends behind it); on a machine whose cores are busy
 * the two together queued the job's records (BENCHMARKS.md, "The busy tail comes with
 * the checkpoint slices"). Kafka's log cleaner likewise looks for work every
 * `log.cleaner.backoff.ms` (15 s), not at each append.
 */
export const DEFAULT_BACKGROUND_DELAY_MS = 2_000;
/** Longest pause between two background steps, however long the step took. */
export const MAX_STEP_PAUSE_MS = 200;

/**
 * How long a background pass pauses after a step that took `stepMs`, so that its steps
 * take `share` of the time: `stepMs × (1 − share) / share`, at most {@link MAX_STEP_PAUSE_MS}.
 */
export function backgroundPauseMs(stepMs: number, share: number): number {
  return Math.min(MAX_STEP_PAUSE_MS, (stepMs * (1 - share)) / share);
}

/** What the compactor needs of the store. */
export interface CompactorHost {
  readonly db: LogDatabase;
  /**
   * Deletes `deletes`, then puts `keys`/`values`, as one atomic LevelDB batch through
   * the store's write queue (never interleaved with another write's batch).
   */
  rewrite(deletes: readonly Buffer[], keys: readonly Buffer[], values: readonly Buffer[]): Promise<void>;
}

export interface LogCompactorOptions {
  readonly deleteRetentionMs: number;
  readonly minDirtyRecords: number;
  /** Most keys one pass maps ({@link MAX_KEYS_PER_PASS} by default; see `pass`). */
  readonly maxKeysPerPass: number;
  /**
   * Part of the wall time (0 < share ≤ 1) a background pass may spend in its steps; it
   * pauses between steps for the rest (`LocalLogBackend.open` validates it and applies
   * {@link DEFAULT_BACKGROUND_SHARE}). A pass run by `compact()`, or while one waits, never
   * pauses. Unthrottled, a checkpoint's changelog made every partition due at once and
   * their passes ran in the same second as the checkpoint's own appends, on the same
   * thread and database (docs/local-log.md, "Compaction of `compact` topics").
   */
  readonly backgroundShare: number;
  /**
   * Milliseconds background compaction waits, once a partition is due and no pass is
   * running, before it starts ({@link DEFAULT_BACKGROUND_DELAY_MS}). `compact()` and
   * `stop()` end the wait.
   */
  readonly backgroundDelayMs: number;
  /** Called with a background pass's failure (the pass is abandoned; the log stays consistent). */
  readonly onError: (error: unknown, topic: string, partition: number) => void;
}

/** What compaction did. */
export interface CompactionStats {
  /** Passes run (one partition each). */
  readonly passes: number;
  /** Records read while rewriting (every record below each pass's end). */
  readonly recordsRead: number;
  /** Records removed: superseded, null-keyed, or expired tombstones. */
  readonly recordsRemoved: number;
  /** Stored batches deleted (each replaced by, or merged into, a new one). */
  readonly batchesRewritten: number;
  /** Stored batches written. */
  readonly batchesWritten: number;
}

interface MutableStats {
  passes: number;
  recordsRead: number;
  recordsRemoved: number;
  batchesRewritten: number;
  batchesWritten: number;
}

/** A rewritten batch being built: kept records of consecutive stored batches. */
interface Output {
  readonly base: number;
  last: number;
  readonly builder: RecordBatchBuilder;
  readonly inputs: Buffer[];
  removed: number;
}

export class LogCompactor {
  private readonly due = new Map<string, { topic: TopicState; partition: number }>();
  /** Every pass runs on this chain: one at a time, background or on demand. */
  private tail: Promise<unknown> = Promise.resolve();
  private background: Promise<void> | undefined;
  private stopping = false;
  /** `compact()` calls under way: background steps stop pausing so they wait less. */
  private onDemand = 0;
  /** Ends the pause a throttled step is in now (`compact()` or `stop()` do not wait it out). */
  private endPause: (() => void) | undefined;

  constructor(
    private readonly host: CompactorHost,
    private readonly options: LogCompactorOptions,
  ) {}

  /** After an append to a partition of a compact topic: schedules a pass when it is due. */
  appended(topic: TopicState, partition: number): void {
    if (this.stopping || !this.isDue(topic, partition)) return;
    this.due.set(`${topic.id}:${partition}`, { topic, partition });
    this.background ??= this.runBackground();
  }

  /**
   * Compacts every partition of `topics` until what was appended before the call is
   * compacted (at least one pass each, which also removes expired tombstones).
   */
  async compact(topics: readonly TopicState[]): Promise<CompactionStats> {
    const stats: MutableStats = { passes: 0, recordsRead: 0, recordsRemoved: 0, batchesRewritten: 0, batchesWritten: 0 };
    this.onDemand++;
    this.endPause?.();
    try {
      for (const topic of topics) {
        for (let partition = 0; partition < topic.partitions; partition++) {
          const target = topic.high[partition]!;
          if (target === 0) continue;
          do {
            this.assertRunning();
            await this.exclusive(() => this.pass(topic, partition, stats, false));
            this.assertRunning();
          } while (topic.cleanedTo[partition]! < target);
        }
      }
    } finally {
      this.onDemand--;
    }
    return { ...stats };
  }

  /** Ends the running pass after its current step and runs no more. Idempotent. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.due.clear();
    this.endPause?.();
    await this.tail.catch(() => undefined);
    await this.background;
  }

  private isDue(topic: TopicState, partition: number): boolean {
    const dirty = topic.high[partition]! - topic.cleanedTo[partition]!;
    return dirty > Math.max(this.options.minDirtyRecords, topic.liveRecords[partition]!);
  }

  private async runBackground(): Promise<void> {
    // Never finish synchronously: `background` is assigned after this returns.
    await Promise.resolve();
    try {
      if (this.options.backgroundDelayMs > 0 && this.onDemand === 0) await this.pause(this.options.backgroundDelayMs);
      while (!this.stopping && this.due.size > 0) {
        const [key, { topic, partition }] = this.due.entries().next().value!;
        this.due.delete(key);
        if (!this.isDue(topic, partition)) continue;
        try {
          await this.exclusive(() => this.pass(topic, partition, undefined, true));
        } catch (error) {
          if (!this.stopping) this.options.onError(error, topic.name, partition);
          continue;
        }
        // What was appended during the pass may make it due again.
        if (this.isDue(topic, partition)) this.due.set(key, { topic, partition });
      }
    } finally {
      this.background = undefined;
    }
  }

  private exclusive<T>(run: () => Promise<T>): Promise<T> {
    const result = this.tail.then(run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private assertRunning(): void {
    if (this.stopping) throw new LogClosedError('local log compaction');
  }

  /**
   * One pass over one partition; returns early (nothing half-done) when stopping. When
   * every record stored below the high watermark (at most the records the last pass kept
   * plus those appended since) fits in one key set, the pass reads the partition once,
   * newest first ({@link backwardPass}); otherwise it maps the dirty part's keys first
   * and then rewrites ({@link forwardPass}), in as many passes as the dirty part needs.
   */
  private async pass(topic: TopicState, partition: number, stats: MutableStats | undefined, throttled: boolean): Promise<void> {
    const stored = topic.liveRecords[partition]! + topic.high[partition]! - topic.cleanedTo[partition]!;
    if (stored > this.options.maxKeysPerPass) return this.forwardPass(topic, partition, stats, throttled);
    // Expired tombstones go after the records they hide, in a forward pass: removed first
    // (newest first), a stop or a crash in between would bring those records back.
    if (await this.backwardPass(topic, partition, stats, throttled)) await this.forwardPass(topic, partition, stats, throttled);
  }

  /**
   * A pass that reads every stored batch below the snapshot once, newest first: a record is
   * kept unless a later record (met before it) has its key or its key is null. Each step's
   * batches are then rewritten in offset order as {@link forwardPass} rewrites them.
   * Reading the dirty part twice (to map its keys, then to rewrite) was most of a pass's
   * work when a checkpoint's changelog updates most of the keys (docs/local-log.md).
   * Tombstones older than `deleteRetentionMs` are kept: true when the pass completed and
   * kept some (a forward pass removes them).
   */
  private async backwardPass(topic: TopicState, partition: number, stats: MutableStats | undefined, throttled: boolean): Promise<boolean> {
    if (this.stopping) return false;
    const snapshot = topic.high[partition]!;
    const horizon = Date.now() - this.options.deleteRetentionMs;
    const later = new Set<string>();
    let kept = 0;
    let expiredTombstones = 0;
    const rewritten = await this.forEachStepBackward(topic.id, partition, snapshot, throttled, async (descending, slices) => {
      const masks = new Array<KeptRecords>(descending.length);
      for (let i = 0; i < descending.length; i++) {
        const [key, value] = descending[i]!;
        const mask = keepLatestBackward(value, baseOffsetFromBatchKey(key), later, horizon);
        expiredTombstones += mask.expiredTombstones;
        masks[i] = mask;
        await slices.due();
      }
      const entries = descending.reverse();
      masks.reverse();
      kept += await this.rewriteStep(topic.id, partition, entries, (_value, _base, i) => masks[i]!, stats, slices);
      return true;
    });
    if (!rewritten) return false;
    await this.finishPass(topic, partition, snapshot, kept, stats);
    return expiredTombstones > 0;
  }

  /** The two-step pass for a partition too large for {@link backwardPass}'s key set. */
  private async forwardPass(topic: TopicState, partition: number, stats: MutableStats | undefined, throttled: boolean): Promise<void> {
    if (this.stopping) return;
    const snapshot = topic.high[partition]!;
    const from = topic.cleanedTo[partition]!;
    // 1. key → latest offset over the dirty part.
    const latest = new Map<string, number>();
    let end = from;
    if (from < snapshot) {
      const scanned = await this.forEachStep(topic.id, partition, from, snapshot, throttled, async (entries, slices) => {
        for (const [key, value] of entries) {
          forEachRecordKey(value, baseOffsetFromBatchKey(key), (offset, keyAt, keyLength) => {
            if (keyLength >= 0) latest.set(value.toString('latin1', keyAt, keyAt + keyLength), offset);
          });
          end = lastOffsetFromBatchKey(key) + 1;
          if (latest.size >= this.options.maxKeysPerPass) return false;
          await slices.due();
        }
        return true;
      });
      if (!scanned) return;
      if (end <= from) end = snapshot;
    } else {
      end = snapshot;
    }

    // 2. rewrite everything below `end`.
    const horizon = Date.now() - this.options.deleteRetentionMs;
    let kept = 0;
    const rewritten = await this.forEachStep(topic.id, partition, 0, end, throttled, async (entries, slices) => {
      kept += await this.rewriteStep(topic.id, partition, entries, (value, base) => keepLatestOf(value, base, latest, horizon), stats, slices);
      return true;
    });
    if (!rewritten) return;
    await this.finishPass(topic, partition, end, kept, stats);
  }

  /** Plans and writes one step's rewrites; returns the records it kept. */
  private async rewriteStep(
    topicId: number,
    partition: number,
    entries: readonly [Buffer, Buffer][],
    keepOf: KeepOf,
    stats: MutableStats | undefined,
    slices: StepSlices,
  ): Promise<number> {
    const step = await this.planStep(entries, keepOf, slices);
    if (stats !== undefined) {
      stats.recordsRead += step.read;
      stats.recordsRemoved += step.read - step.kept;
      for (const output of step.outputs) stats.batchesRewritten += output.inputs.length;
      stats.batchesWritten += step.outputs.length;
    }
    // One atomic rewrite per new batch (its inputs out, it in): each replaces a range of
    // its own, so a reader still sees the old or the new entries of every range, and the
    // outputs appended meanwhile are written between them instead of behind a whole step.
    for (const output of step.outputs) {
      await this.host.rewrite(output.inputs, [batchKey(topicId, partition, output.last, output.base)], [toBuffer(output.builder.finish())]);
    }
    return step.kept;
  }

  /** A pass's checkpoint: how far the partition is compacted and the records it kept. */
  private async finishPass(topic: TopicState, partition: number, end: number, kept: number, stats: MutableStats | undefined): Promise<void> {
    const checkpoint = Buffer.allocUnsafe(16);
    writeUint64(checkpoint, 0, end);
    writeUint64(checkpoint, 8, kept);
    await this.host.rewrite([], [compactionKey(topic.id, partition)], [checkpoint]);
    topic.cleanedTo[partition] = end;
    topic.liveRecords[partition] = kept;
    if (stats !== undefined) stats.passes++;
  }

  /**
   * Feeds the stored batches of a partition with last offsets in `[from, end)` to
   * `visit` in bounded chunks (yielding to the event loop between them, `throttled`:
   * pausing for the time {@link LogCompactorOptions.backgroundShare} leaves) until `visit`
   * returns false. `visit` gives the loop a turn with `slices` as it goes. False when the
   * compactor is stopping (the work is incomplete).
   */
  private async forEachStep(
    topicId: number,
    partition: number,
    from: number,
    end: number,
    throttled: boolean,
    visit: (entries: [Buffer, Buffer][], slices: StepSlices) => Promise<boolean>,
  ): Promise<boolean> {
    let cursor = from;
    const last = batchSeekKey(topicId, partition, end);
    while (cursor < end) {
      if (this.stopping) return false;
      const stepStarted = performance.now();
      const entries = await this.readStep(batchSeekKey(topicId, partition, cursor), last, false);
      if (entries.length === 0) break;
      const slices = new StepSlices();
      if (!(await visit(entries, slices))) break;
      cursor = lastOffsetFromBatchKey(entries[entries.length - 1]![0]) + 1;
      // The turns given to others are not the step's time.
      await this.pauseAfterStep(throttled, performance.now() - stepStarted - slices.yieldedMs);
    }
    return !this.stopping;
  }

  /**
   * {@link forEachStep} from the end: the stored batches of a partition below `end`, in
   * bounded chunks, newest first (each chunk in descending offset order).
   */
  private async forEachStepBackward(
    topicId: number,
    partition: number,
    end: number,
    throttled: boolean,
    visit: (descending: [Buffer, Buffer][], slices: StepSlices) => Promise<boolean>,
  ): Promise<boolean> {
    const first = batchSeekKey(topicId, partition, 0);
    let below = batchSeekKey(topicId, partition, end);
    for (;;) {
      if (this.stopping) return false;
      const stepStarted = performance.now();
      const entries = await this.readStep(first, below, true);
      if (entries.length === 0) break;
      // Entries cover disjoint ranges: the next chunk ends below the lowest one's base.
      const lowestBase = baseOffsetFromBatchKey(entries[entries.length - 1]![0]);
      const slices = new StepSlices();
      if (!(await visit(entries, slices))) break;
      if (lowestBase === 0) break;
      below = batchSeekKey(topicId, partition, lowestBase);
      await this.pauseAfterStep(throttled, performance.now() - stepStarted - slices.yieldedMs);
    }
    return !this.stopping;
  }

  /**
   * One step's stored batches in `[gte, lt)`: at most {@link STEP_ENTRIES} or about
   * {@link STEP_BYTES}, from the low end or (`reverse`) the high end.
   */
  private async readStep(gte: Buffer, lt: Buffer, reverse: boolean): Promise<[Buffer, Buffer][]> {
    const iterator = this.host.db.iterator({ gte, lt, reverse, highWaterMarkBytes: STEP_BYTES });
    let entries: [Buffer, Buffer][] = [];
    try {
      entries = (await iterator.nextv(STEP_ENTRIES)) as [Buffer, Buffer][];
    } finally {
      // A key outside the range, so the release's read is empty.
      await closeIterator(iterator, chunkBytes(entries), reverse ? BELOW_EVERY_KEY : lt);
    }
    return entries;
  }

  /** A turn of the event loop, and for a throttled step the rest of its share of time. */
  private pauseAfterStep(throttled: boolean, stepMs: number): Promise<void> {
    const pauseMs = throttled && this.onDemand === 0 ? backgroundPauseMs(stepMs, this.options.backgroundShare) : 0;
    if (pauseMs < 1) return new Promise<void>((resolve) => setImmediate(resolve));
    return this.pause(pauseMs);
  }

  /** Waits `pauseMs`, or until `compact()` or `stop()` ends the wait. */
  private pause(pauseMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const end = (): void => {
        clearTimeout(timer);
        this.endPause = undefined;
        resolve();
      };
      const timer = setTimeout(end, pauseMs);
      this.endPause = end;
    });
  }

  /** Which stored batches of a step to replace (each output's inputs), and by what. */
  private async planStep(entries: readonly [Buffer, Buffer][], keepOf: KeepOf, slices: StepSlices): Promise<{ outputs: Output[]; read: number; kept: number }> {
    const outputs: Output[] = [];
    let read = 0;
    let kept = 0;
    let open: Output | undefined;
    const close = (): void => {
      if (open === undefined) return;
      // A lone stored batch that loses nothing stays as it is.
      if (open.inputs.length > 1 || open.removed > 0) {
        outputs.push(open);
      }
      open = undefined;
    };
    for (let e = 0; e < entries.length; e++) {
      const [key, value] = entries[e]!;
      // The entries were read below the pass's snapshot, where only this pass writes:
      // appends made during a turn do not change them.
      await slices.due();
      const base = baseOffsetFromBatchKey(key);
      const last = lastOffsetFromBatchKey(key);
      const { keep, kept: keeping } = keepOf(value, base, e);
      const count = keep.length;
      read += count;
      kept += keeping;
      const removed = count - keeping;
      if (removed === 0 && (count >= SMALL_BATCH_RECORDS || value.byteLength >= SMALL_BATCH_BYTES)) {
        close();
        continue;
      }
      if (open !== undefined && last - open.base > MAX_RANGE) close();
      const output: Output = (open ??= { base, last, builder: new RecordBatchBuilder(Math.min(value.byteLength, TARGET_BATCH_BYTES)), inputs: [], removed: 0 });
      output.inputs.push(key);
      output.last = last;
      output.removed += removed;
      if (keeping > 0) {
        // Kept records are copied as they are stored: decoding them into objects only to
        // encode them again made a step several times slower (the compactor runs on the
        // thread that appends).
        let i = 0;
        const builder = output.builder;
        forEachRecordKey(value, base, (offset, _keyAt, _keyLength, _timestamp, _valueIsNull, start, end) => {
          if (keep[i++] === 1) builder.addCopy(value, start, end, offset - output.base);
        });
      }
      if (output.builder.count >= TARGET_BATCH_RECORDS || output.builder.byteLength >= TARGET_BATCH_BYTES) close();
    }
    close();
    return { outputs, read, kept };
  }
}

/** Which records of a stored batch a pass keeps: a flag per record, in offset order, and how many. */
interface KeptRecords {
  readonly keep: Uint8Array;
  readonly kept: number;
}

/** The records a pass keeps of the stored batch `value` (base offset `base`, `index` in its step). */
type KeepOf = (value: Buffer, base: number, index: number) => KeptRecords;

/** Seek target of a backward iterator's release: below every key of the log. */
const BELOW_EVERY_KEY = Buffer.alloc(0);

/**
 * {@link LogCompactor.forwardPass}'s rule: a record is kept unless the dirty part has a
 * later record of its key (`latest`), its key is null, or it is a tombstone older than
 * `horizon`.
 */
function keepLatestOf(value: Buffer, base: number, latest: ReadonlyMap<string, number>, horizon: number): KeptRecords {
  const keep = new Uint8Array(batchInfo(value).count);
  let kept = 0;
  let index = 0;
  forEachRecordKey(value, base, (offset, keyAt, keyLength, timestamp, valueIsNull) => {
    const i = index++;
    if (keyLength < 0) return;
    const newest = latest.get(value.toString('latin1', keyAt, keyAt + keyLength));
    if (newest !== undefined && newest > offset) return;
    if (valueIsNull && timestamp < horizon) return;
    keep[i] = 1;
    kept++;
  });
  return { keep, kept };
}

/**
 * {@link LogCompactor.backwardPass}'s rule, for batches met newest first: a record is kept
 * unless a record met before it has its key (`later`, to which its own key is added) or its
 * key is null. Also counts the kept tombstones older than `horizon`.
 */
function keepLatestBackward(value: Buffer, base: number, later: Set<string>, horizon: number): KeptRecords & { readonly expiredTombstones: number } {
  const count = batchInfo(value).count;
  const keys = new Array<string | undefined>(count);
  const expired = new Uint8Array(count);
  let index = 0;
  forEachRecordKey(value, base, (_offset, keyAt, keyLength, timestamp, valueIsNull) => {
    const i = index++;
    keys[i] = keyLength < 0 ? undefined : value.toString('latin1', keyAt, keyAt + keyLength);
    if (valueIsNull && timestamp < horizon) expired[i] = 1;
  });
  const keep = new Uint8Array(count);
  let kept = 0;
  let expiredTombstones = 0;
  for (let i = count - 1; i >= 0; i--) {
    const key = keys[i];
    if (key === undefined || later.has(key)) continue;
    later.add(key);
    keep[i] = 1;
    kept++;
    expiredTombstones += expired[i]!;
  }
  return { keep, kept, expiredTombstones };
}

/**
 * One step's synchronous work cut into slices of {@link SLICE_MS}, each followed by a
 * turn of the event loop, and how long those turns took (not the step's own time).
 */
class StepSlices {
  private sliceStart = performance.now();
  yieldedMs = 0;

  /** Resolves after a turn of the event loop when the current slice is used up, at once otherwise. */
  async due(): Promise<void> {
    const now = performance.now();
    if (now - this.sliceStart < SLICE_MS) return;
    await eventLoopTurn();
    this.sliceStart = performance.now();
    this.yieldedMs += this.sliceStart - now;
  }
}

/** Compaction checkpoint value → how far the partition is compacted and its live records. */
export function parseCompactionCheckpoint(value: Buffer): { cleanedTo: number; liveRecords: number } {
  return { cleanedTo: readUint64Safe(value, 0), liveRecords: readUint64Safe(value, 8) };
}

function readUint64Safe(value: Buffer, at: number): number {
  return value.length >= at + 8 ? value.readUInt32BE(at) * 2 ** 32 + value.readUInt32BE(at + 4) : 0;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
