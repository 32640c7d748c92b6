/**
 * The checkpoint protocol (docs/semantics.md §8.1): with no data batch in flight,
 * 1. every worker prepares: changelog records + outputs + processed offsets per partition;
 * 2. the coordinator appends them and commits the source offsets — one atomic
 *    append+commit under exactly-once, append then commit under at-least-once;
 * 3. every worker flushes its transactions with the delivered changelog offsets.
 * A crash anywhere in between is safe: recovery skips changelog records whose processed
 * offset is not below the committed one (docs/semantics.md §5.4).
 */
import type { AppendBatch, AppendBatchResult, GroupConsumer, LogProducer, PartitionOffset } from '../shared/log/log-backend.js';
import type {
  DeliveredChangelogOffset,
  EncodedBatch,
  PreparedPartition,
  PreparedWork,
} from '../shared/protocol/worker-protocol.js';
import type { WorkerHandle } from './worker-pool.js';
import { CommitRejectedError } from '../shared/errors/log-errors.js';
import { InternalInvariantError } from '../shared/errors/runtime-errors.js';
import type { OutputStream } from './output-stream.js';
import { releaseArrayBuffer } from '../shared/protocol/array-buffer-release.js';

export interface CheckpointResult {
  readonly partitions: number;
  readonly changelogRecords: number;
  /** Bytes of the changelog batches appended. */
  readonly changelogBytes: number;
  /** Outputs appended with this checkpoint (exactly-once; streamed outputs are not counted here). */
  readonly outputRecords: number;
  /** {@link outputRecords} per topic. */
  readonly outputsByTopic?: Readonly<Record<string, number>>;
  readonly committedOffsets: readonly PartitionOffset[];
}

export interface CheckpointerOptions {
  readonly group: string;
  readonly exactlyOnce: boolean;
  /** Where streamed outputs go (at-least-once): offsets are committed after it is flushed. */
  readonly outputs: OutputStream;
  /** Source offsets a checkpoint committed (the router's positions follow them). */
  readonly onCommitted?: (offsets: readonly PartitionOffset[]) => void;
  /** A pipelined commit failed (the job stops). */
  readonly onFailure: (error: Error) => void;
  /** The group refused a pipelined commit (docs/semantics.md §8.4); the job goes on. */
  readonly onRejected?: (error: CommitRejectedError) => void;
}

/** What the checkpoints of one run did, for its summary. */
export interface CheckpointTotals {
  checkpoints: number;
  changelogRecords: number;
  changelogBytes: number;
}

/** Told of each committed checkpoint and how long it took from prepare to flush. */
export type CheckpointListener = (result: CheckpointResult, seconds: number) => void;

/** What phase 1 gathered: per worker, its prepared work. */
export interface PreparedCheckpoint {
  readonly byWorker: readonly PreparedWork[];
}

export class Checkpointer {
  /** Phase 2 of the last pipelined checkpoint, while it runs. */
  private pendingCommit: Promise<void> | undefined;
  private failed = false;
  /**
   * The group refused a commit (docs/semantics.md §8.4): the workers' transactions were
   * dropped, and nothing may commit until the partitions have been released.
   */
  private rejected: CommitRejectedError | undefined;
  /**
   * Checkpoints start one at a time: the loop's pipelined one and a rebalance's full one
   * (called from inside a poll) must not both prepare before the first is flushed, or the
   * second prepare would replace transactions the first still has to flush.
   */
  private turn: Promise<void> = Promise.resolve();
  readonly totals: CheckpointTotals = { checkpoints: 0, changelogRecords: 0, changelogBytes: 0 };
  private readonly listeners = new Set<CheckpointListener>();

  constructor(
    private readonly workers: readonly WorkerHandle[],
    private readonly producer: LogProducer,
    private readonly consumer: GroupConsumer,
    private readonly options: CheckpointerOptions,
  ) {}

  /**
   * A full checkpoint, waited for: at the end, on revoke, on idle. A pipelined commit
   * still running is finished first, so checkpoints commit in order.
   */
  async checkpointNow(): Promise<void> {
    await this.oneAtATime(async () => {
      await this.settle();
      if (this.failed) return;
      if (this.rejected !== undefined) {
        // Whatever the workers processed since the refused commit sits on dropped state.
        await this.abort();
        throw this.rejected;
      }
      const started = performance.now();
      try {
        await this.commitCounted(await this.prepare(), started);
      } catch (error) {
        if (error instanceof CommitRejectedError) this.rejected = error;
        throw error;
      }
    });
  }

  /**
   * Every partition has been released after a refused commit: their next owners read them
   * again from the committed offsets, so checkpoints may commit again.
   */
  partitionsReleased(): void {
    this.rejected = undefined;
  }

  /**
   * A pipelined checkpoint: phase 1 (prepare) now; phase 2 (append, commit, flush) in the
   * background while routing goes on — workers keep processing into transactions that
   * continue the prepared ones. At most one phase 2 runs at a time. `partitions`: only
   * those (a slice, at-least-once only: under exactly-once the outputs held for the
   * commit belong to every partition); absent: every partition.
   */
  async begin(partitions?: readonly number[]): Promise<void> {
    if (partitions !== undefined && this.options.exactlyOnce) {
      throw new InternalInvariantError('a checkpoint of a slice of the partitions under exactly-once');
    }
    await this.oneAtATime(async () => {
      await this.settle();
      if (this.failed || this.rejected !== undefined) return;
      const started = performance.now();
      const prepared = await this.prepare(partitions);
      this.pendingCommit = this.commitCounted(prepared, started).catch((error: unknown) => {
        if (error instanceof CommitRejectedError) {
          this.rejected = error;
          this.options.onRejected?.(error);
          return;
        }
        this.failed = true;
        this.options.onFailure(error instanceof Error ? error : new Error(String(error)));
      });
    });
  }

  private oneAtATime(section: () => Promise<void>): Promise<void> {
    const run = this.turn.then(section);
    this.turn = run.catch(() => undefined);
    return run;
  }

  /**
   * Wait for a pipelined commit; rethrows nothing (its failure went to `onFailure`). Every
   * caller waits for it: the loop and a rebalance's checkpoint may both be settling, and
   * the second must not prepare while the first still waits for the commit to flush.
   */
  async settle(): Promise<void> {
    const pending = this.pendingCommit;
    if (pending === undefined) return;
    await pending;
    if (this.pendingCommit === pending) this.pendingCommit = undefined;
  }

  /**
   * After a failure, a lost assignment or a refused commit: once the checkpoint under way
   * (its prepare and its commit) is done, drop the open transactions. In turn with the
   * checkpoints: an abort between a prepare and its flush could reach a worker before the
   * prepare (control and data ports are not ordered with each other), leaving prepared
   * transactions that the next prepare finds unflushed.
   */
  async abandon(): Promise<void> {
    await this.oneAtATime(async () => {
      await this.settle();
      await this.abort();
    });
  }

  /** Calls `listener` after every committed checkpoint with work (metrics); returns the unsubscribe. */
  onCheckpoint(listener: CheckpointListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async commitCounted(prepared: PreparedCheckpoint, started: number): Promise<void> {
    try {
      const result = await this.commit(prepared);
      if (result.partitions > 0) this.totals.checkpoints++;
      if (result.partitions > 0 || result.outputRecords > 0) {
        const seconds = (performance.now() - started) / 1000;
        for (const listener of this.listeners) listener(result, seconds);
      }
      this.totals.changelogRecords += result.changelogRecords;
      this.totals.changelogBytes += result.changelogBytes;
      this.options.onCommitted?.(result.committedOffsets);
    } catch (error) {
      await this.abort();
      throw error;
    }
  }

  /**
   * Phase 1: every worker prepares after the batches routed to it so far (its
   * transactions become PREPARED; it goes on processing later batches in fresh
   * transactions continuing them). Routing does not stop for it. `partitions`: only those.
   */
  async prepare(partitions?: readonly number[]): Promise<PreparedCheckpoint> {
    return { byWorker: await Promise.all(this.workers.map((w) => w.prepare(partitions))) };
  }

  /**
   * Phase 2: append the changelog batches (and, under exactly-once, the held outputs)
   * as they came from the workers, commit the offsets, then let every worker flush the
   * prepared transactions with the delivered changelog offsets. It may run while records
   * of the next checkpoint are being processed; the caller runs at most one at a time,
   * in order.
   */
  async commit(checkpoint: PreparedCheckpoint): Promise<CheckpointResult> {
    const work = checkpoint.byWorker;
    const all = work.flatMap((w) => w.partitions);
    const outputs = work.flatMap((w) => w.outputs);
    if (all.length === 0 && outputs.length === 0) {
      return { partitions: 0, changelogRecords: 0, changelogBytes: 0, outputRecords: 0, committedOffsets: [] };
    }

    const offsets = committedOffsetsOf(all);
    const changelog = all.flatMap((p) => p.changelog);
    const changelogAppends = changelog.map(toAppend);
    let results: AppendBatchResult[];
    if (this.options.exactlyOnce) {
      // One atomic unit: changelogs, outputs and offsets.
      results = await this.producer.appendBatchesAndCommit([...changelogAppends, ...outputs.map(toAppend)], this.options.group, offsets);
    } else {
      // In appends of about CHANGELOG_APPEND_BYTES: the local log writes what is queued as
      // one unit, so a checkpoint's changelog in one append (megabytes) held every output
      // streamed behind it for the whole write; piece by piece, outputs go in between.
      // Under at-least-once nothing needs them in one unit (docs/semantics.md §8.1).
      results = [];
      for (const piece of appendPieces(changelogAppends)) results.push(...(await this.producer.appendBatches(piece)));
      await this.options.outputs.flushed();
      if (offsets.length > 0) await this.consumer.commit(offsets);
    }

    // Appended: their bytes are in the log, their memory is freed now (docs/data-plane.md rule 13).
    const changelogBytes = changelog.reduce((n, b) => n + b.buffer.byteLength, 0);
    for (const batch of [...changelog, ...outputs]) releaseArrayBuffer(batch.buffer);

    const delivered: DeliveredChangelogOffset[] = changelog.map((batch, i) => ({
      partition: batch.partition,
      store: batch.store,
      offset: results[i]!.lastOffset,
    }));
    await Promise.all(
      this.workers.map((w, i) => {
        const mine = new Set(work[i]!.partitions.map((p) => p.partition));
        return mine.size === 0 ? Promise.resolve() : w.control.flush(delivered.filter((d) => mine.has(d.partition)));
      }),
    );
    return {
      partitions: all.length,
      changelogRecords: all.reduce((n, p) => n + p.changelogRecords, 0),
      changelogBytes,
      outputRecords: work.reduce((n, w) => n + w.outputRecords, 0),
      outputsByTopic: countByTopic(outputs),
      committedOffsets: offsets,
    };
  }

  /** Drop the workers' open transactions after a failed checkpoint. */
  async abort(): Promise<void> {
    await Promise.allSettled(this.workers.map((w) => w.control.abort()));
  }
}

function countByTopic(batches: readonly EncodedBatch[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const b of batches) counts[b.topic] = (counts[b.topic] ?? 0) + b.count;
  return counts;
}

/** Bytes of changelog batches one at-least-once append carries (one batch may be larger). */
export const CHANGELOG_APPEND_BYTES = 256 * 1024;

/** `appends` in order, grouped into pieces of about {@link CHANGELOG_APPEND_BYTES}. */
function appendPieces(appends: readonly AppendBatch[]): AppendBatch[][] {
  const pieces: AppendBatch[][] = [];
  let piece: AppendBatch[] = [];
  let bytes = 0;
  for (const append of appends) {
    if (piece.length > 0 && bytes + append.batch.byteLength > CHANGELOG_APPEND_BYTES) {
      pieces.push(piece);
      piece = [];
      bytes = 0;
    }
    piece.push(append);
    bytes += append.batch.byteLength;
  }
  if (piece.length > 0) pieces.push(piece);
  return pieces;
}

function toAppend(batch: EncodedBatch): AppendBatch {
  return { topic: batch.topic, partition: batch.partition, batch: new Uint8Array(batch.buffer) };
}

/** Offsets to commit: last processed + 1 per source topic-partition. */
function committedOffsetsOf(prepared: readonly PreparedPartition[]): PartitionOffset[] {
  const offsets: PartitionOffset[] = [];
  for (const p of prepared) {
    for (const [topic, offset] of Object.entries(p.processed)) offsets.push({ topic, partition: p.partition, offset: offset + 1 });
  }
  return offsets;
}
