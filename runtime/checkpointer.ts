/**
 * The checkpoint protocol (design.md): with no data batch in flight,
 * 1. every worker prepares: changelog records + outputs + processed offsets per partition;
 * 2. the coordinator appends them and commits the source offsets — one atomic
 *    append+commit under exactly-once, append then commit under at-least-once;
 * 3. every worker flushes its transactions with the delivered changelog offsets.
 * A crash anywhere in between is safe: recovery skips changelog records whose processed
 * offset is not below the committed one (spec §5.4).
 */
import type { AppendRecord, AppendResult, GroupConsumer, LogProducer, PartitionOffset } from '../shared/log/log-backend.js';
import { decodeRecordBatch } from '../shared/protocol/record-batch-codec.js';
import {
  UNASSIGNED_PARTITION,
  type DeliveredChangelogOffset,
  type PreparedPartition,
} from '../shared/protocol/worker-protocol.js';
import type { WorkerHandle } from './worker-pool.js';

export interface CheckpointResult {
  readonly partitions: number;
  readonly changelogRecords: number;
  /** Key + value bytes of the changelog records appended. */
  readonly changelogBytes: number;
  readonly outputRecords: number;
  readonly committedOffsets: readonly PartitionOffset[];
}

export interface CheckpointerOptions {
  readonly group: string;
  readonly exactlyOnce: boolean;
  /** Store of a changelog topic (undefined for output topics). */
  readonly storeOfChangelog: (topic: string) => string | undefined;
}

/** What phase 1 gathered: per worker, its prepared partitions. */
export interface PreparedCheckpoint {
  readonly byWorker: readonly (readonly PreparedPartition[])[];
}

export class Checkpointer {
  constructor(
    private readonly workers: readonly WorkerHandle[],
    private readonly producer: LogProducer,
    private readonly consumer: GroupConsumer,
    private readonly options: CheckpointerOptions,
  ) {}

  /**
   * Phase 1: once no batch is in flight, every worker prepares (its transactions become
   * PREPARED; it keeps processing new records in fresh transactions continuing them).
   */
  async prepare(): Promise<PreparedCheckpoint> {
    await Promise.all(this.workers.map((w) => w.drained()));
    return { byWorker: await Promise.all(this.workers.map((w) => w.control.prepare())) };
  }

  /**
   * Phase 2: append changelog records and outputs, commit the offsets, then let every
   * worker flush the prepared transactions with the delivered changelog offsets. It may
   * run while records of the next checkpoint are being processed; the caller runs at
   * most one at a time, in order.
   */
  async commit(checkpoint: PreparedCheckpoint): Promise<CheckpointResult> {
    const prepared = checkpoint.byWorker;
    const all = prepared.flat();
    if (all.length === 0) return { partitions: 0, changelogRecords: 0, changelogBytes: 0, outputRecords: 0, committedOffsets: [] };

    const offsets = committedOffsetsOf(all);
    let changelogBytes = 0;
    const results: AppendResult[] = [];
    if (this.options.exactlyOnce) {
      // One atomic unit: everything of the checkpoint with its offsets.
      const records = this.appendRecordsOf(all);
      changelogBytes = this.changelogBytesOf(records);
      results.push(...(await this.producer.appendAndCommit(records, this.options.group, offsets)));
    } else {
      // Partition by partition, so only one partition's records are decoded at a time
      // (a checkpoint can hold hundreds of thousands); the offsets are committed after all.
      for (const partition of all) {
        const records = this.appendRecordsOf([partition]);
        if (records.length === 0) continue;
        changelogBytes += this.changelogBytesOf(records);
        for (const r of await this.producer.append(records)) results.push(r);
      }
      await this.consumer.commit(offsets);
    }

    const delivered = this.deliveredChangelogOffsets(results);
    await Promise.all(
      this.workers.map((w, i) => {
        const mine = new Set(prepared[i]!.map((p) => p.partition));
        return w.control.flush(delivered.filter((d) => mine.has(d.partition)));
      }),
    );
    return {
      partitions: all.length,
      changelogRecords: all.reduce((n, p) => n + p.changelogRecords, 0),
      changelogBytes,
      outputRecords: all.reduce((n, p) => n + p.outputRecords, 0),
      committedOffsets: offsets,
    };
  }

  /** Drop the workers' open transactions after a failed checkpoint. */
  async abort(): Promise<void> {
    await Promise.allSettled(this.workers.map((w) => w.control.abort()));
  }

  private appendRecordsOf(prepared: readonly PreparedPartition[]): AppendRecord[] {
    const out: AppendRecord[] = [];
    for (const p of prepared) {
      for (const r of decodeRecordBatch(p.records)) {
        // A decoded record already is an AppendRecord (its offset field is ignored);
        // only records left to the partitioner need a new object.
        out.push(
          r.partition === UNASSIGNED_PARTITION
            ? { topic: r.topic, key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp }
            : r,
        );
      }
    }
    return out;
  }

  private changelogBytesOf(records: readonly AppendRecord[]): number {
    let bytes = 0;
    for (const r of records) {
      if (this.options.storeOfChangelog(r.topic) !== undefined) bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0);
    }
    return bytes;
  }

  private deliveredChangelogOffsets(results: readonly AppendResult[]): DeliveredChangelogOffset[] {
    const last = new Map<string, DeliveredChangelogOffset>();
    for (const r of results) {
      const store = this.options.storeOfChangelog(r.topic);
      if (store === undefined) continue;
      const key = `${store}\u0000${r.partition}`;
      const prev = last.get(key);
      if (prev === undefined || prev.offset < r.offset) last.set(key, { partition: r.partition, store, offset: r.offset });
    }
    return [...last.values()];
  }
}

/** Offsets to commit: last processed + 1 per source topic-partition. */
function committedOffsetsOf(prepared: readonly PreparedPartition[]): PartitionOffset[] {
  const offsets: PartitionOffset[] = [];
  for (const p of prepared) {
    for (const [topic, offset] of Object.entries(p.processed)) offsets.push({ topic, partition: p.partition, offset: offset + 1 });
  }
  return offsets;
}
