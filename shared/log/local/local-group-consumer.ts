/**
 * `GroupConsumer` of the local log. The local log runs in one process, so a group
 * has a single member: it is assigned every partition of its subscribed topics at
 * `subscribe` (one `onAssign`), and gives them back at `close` (one `onRevoke`).
 * A second consumer of the same group cannot subscribe until the first is closed
 * (`GroupMemberConflictError`): with one member there is nothing to share.
 * `pollBatches` and `poll` rotate over the assigned, unpaused partitions starting from
 * each one's position (the committed offset, else 0 = earliest) and, when nothing is
 * there, sleep until this process appends (no polling of the database).
 * `pollBatches` hands out the stored batches as one batch set per partition (whole
 * batches, the last one bounded by the set's end offset so a set holds exactly what was asked); `poll` decodes them and
 * returns exactly up to `maxRecords`.
 *
 * Not safe for overlapping `poll` calls; the runtime polls from one loop.
 */
import type {
  GroupConsumer,
  LogRecord,
  PartitionBatchSet,
  PartitionOffset,
  RebalanceListener,
  TopicPartition,
} from '../log-backend.js';
import { tpKey } from '../log-backend.js';
import { LogClosedError, PartitionNotAssignedError } from '../../errors/log-errors.js';
import { decodeStored, encodeStored, type LocalLogStore } from './local-log-store.js';
import type { StoredRead } from './stored-read.js';
import type { TopicState } from './stored-topics.js';
import { checkNonNegativeInteger, checkTopicName } from './validate-arguments.js';

/** What a poll makes of a partition's read; it also moves the partition's position. */
type Take<T> = (partition: AssignedPartition, from: number, read: StoredRead, maxRecords: number) => T[];

interface AssignedPartition {
  readonly tp: TopicPartition;
  readonly topic: TopicState;
  /** Next offset `poll` returns. */
  position: number;
  paused: boolean;
}

export class LocalGroupConsumer implements GroupConsumer {
  private assigned: AssignedPartition[] = [];
  private readonly byKey = new Map<string, AssignedPartition>();
  private listener: RebalanceListener | undefined;
  /** Index in `assigned` where the next poll starts, so partitions take turns. */
  private cursor = 0;
  private closed = false;

  constructor(
    private readonly store: LocalLogStore,
    readonly group: string,
    /** Where a partition the group never committed starts. */
    private readonly autoOffsetReset: 'earliest' | 'latest' = 'earliest',
  ) {}

  async subscribe(topics: readonly string[], listener: RebalanceListener): Promise<void> {
    this.assertOpen();
    const states = [...new Set(topics)].map((name) => {
      checkTopicName(name);
      return this.store.topic(name);
    });
    this.store.joinGroup(this.group, this);
    await this.revokeAll();
    const partitions: TopicPartition[] = [];
    for (const topic of states) {
      for (let partition = 0; partition < topic.partitions; partition++) partitions.push({ topic: topic.name, partition });
    }
    const committed = await this.store.committed(this.group, partitions);
    this.assigned = partitions.map((tp) => ({
      tp,
      topic: states.find((s) => s.name === tp.topic)!,
      position: committed.get(tpKey(tp)) ?? (this.autoOffsetReset === 'latest' ? states.find((s) => s.name === tp.topic)!.high[tp.partition]! : 0),
      paused: false,
    }));
    for (const partition of this.assigned) this.byKey.set(tpKey(partition.tp), partition);
    this.cursor = 0;
    this.listener = listener;
    await listener.onAssign(partitions);
  }

  async poll(maxRecords: number, timeoutMs: number): Promise<LogRecord[]> {
    return this.pollWith(maxRecords, timeoutMs, (partition, from, read, max) => {
      const records = decodeStored(read, partition.tp.topic, partition.tp.partition, from, max);
      // Cut inside a batch: go on after the last record handed out, else past the batches read.
      partition.position = records.length < read.count ? records[records.length - 1]!.offset + 1 : read.nextOffset;
      return records;
    });
  }

  async pollBatches(maxRecords: number, timeoutMs: number): Promise<PartitionBatchSet[]> {
    return this.pollWith(maxRecords, timeoutMs, (partition, from, read) => {
      partition.position = read.nextOffset;
      if (read.count === 0) return [];
      return [{ ...partition.tp, ...encodeStored(read, from) }];
    });
  }

  assignment(): readonly TopicPartition[] {
    return this.assigned.map((partition) => partition.tp);
  }

  pause(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.assignedPartition(tp).paused = true;
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.assignedPartition(tp).paused = false;
    this.store.appended.fire();
  }

  seek(partition: TopicPartition, offset: number): void {
    checkNonNegativeInteger('offset', offset);
    this.assignedPartition(partition).position = offset;
    this.store.appended.fire();
  }

  async committed(partitions: readonly TopicPartition[]): Promise<Map<string, number | undefined>> {
    this.assertOpen();
    return this.store.committed(this.group, partitions);
  }

  async commit(offsets: readonly PartitionOffset[]): Promise<void> {
    this.assertOpen();
    await this.store.commit(this.group, offsets);
  }

  /** Revokes the assignment (`onRevoke`) and leaves the group. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.revokeAll();
    } finally {
      this.closed = true;
      this.store.leaveGroup(this.group, this);
      this.store.appended.fire();
    }
  }

  private async revokeAll(): Promise<void> {
    const listener = this.listener;
    const partitions = this.assignment();
    this.assigned = [];
    this.byKey.clear();
    this.listener = undefined;
    if (listener !== undefined && partitions.length > 0) await listener.onRevoke(partitions);
  }

  private hasAvailable(): boolean {
    return this.assigned.some((p) => !p.paused && p.position < p.topic.high[p.tp.partition]!);
  }

  /**
   * The waiting of `poll` and `pollBatches`: fetches with `take` when an assigned,
   * unpaused partition has something below its high watermark, else sleeps until an
   * append (or seek, resume, close) or the deadline.
   */
  private async pollWith<T>(maxRecords: number, timeoutMs: number, take: Take<T>): Promise<T[]> {
    this.assertOpen();
    checkNonNegativeInteger('maxRecords', maxRecords);
    const deadline = Date.now() + Math.max(0, timeoutMs);
    for (;;) {
      if (this.closed || this.store.isClosed || maxRecords === 0) return [];
      if (this.hasAvailable()) {
        const taken = await this.fetch(maxRecords, take);
        if (taken.count > 0 || Date.now() >= deadline) return taken.items;
        continue;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) return [];
      // Registered synchronously after the check above, so no append can slip between.
      await this.store.appended.wait(remaining);
    }
  }

  /**
   * Reads the partitions in turn from `cursor`, each up to what it holds below its high
   * watermark, until `maxRecords` are allotted, and issues those reads all at once (reads
   * at the tail in one `getMany`): one round of reads waits for the slowest, not for the
   * sum of them all. Each read waits its turn in libuv's thread pool, which a
   * checkpoint's writes keep busy, and eight partitions read one after another held a
   * poll for 40–70 ms there (docs/local-log.md, "Reads"). With a backlog the first
   * partitions take the whole poll, as they did when read one after another (a compacted
   * topic holds fewer records than its offsets span, so its poll may come back short). A
   * position moves only once every read of the round succeeded.
   */
  private async fetch<T>(maxRecords: number, take: Take<T>): Promise<{ items: T[]; count: number }> {
    const count = this.assigned.length;
    const reading: { readonly index: number; readonly partition: AssignedPartition; readonly from: number; readonly limit: number }[] = [];
    let allotted = 0;
    for (let i = 0; i < count && allotted < maxRecords; i++) {
      const index = (this.cursor + i) % count;
      const partition = this.assigned[index]!;
      const available = partition.topic.high[partition.tp.partition]! - partition.position;
      if (partition.paused || available <= 0) continue;
      const limit = Math.min(available, maxRecords - allotted);
      reading.push({ index, partition, from: partition.position, limit });
      allotted += limit;
    }
    const reads = await this.store.readStoredMany(
      reading.map((r) => ({ topic: r.partition.topic, partition: r.partition.tp.partition, fromOffset: r.from, maxRecords: r.limit })),
    );
    const items: T[] = [];
    let total = 0;
    reading.forEach(({ index, partition, from, limit }, i) => {
      const read = reads[i]!;
      // A seek, pause or new assignment while reading wins: drop what was read.
      if (this.byKey.get(tpKey(partition.tp)) !== partition || partition.paused || partition.position !== from) return;
      const taken = take(partition, from, read, limit);
      if (read.count === 0) return;
      for (const item of taken) items.push(item);
      total += Math.min(read.count, limit);
      this.cursor = (index + 1) % count;
    });
    return { items, count: total };
  }

  private assignedPartition(tp: TopicPartition): AssignedPartition {
    const partition = this.byKey.get(tpKey(tp));
    if (partition === undefined) throw new PartitionNotAssignedError(this.group, tp.topic, tp.partition);
    return partition;
  }

  private assertOpen(): void {
    if (this.closed) throw new LogClosedError(`local log consumer of group "${this.group}"`);
    this.store.assertOpen();
  }
}
