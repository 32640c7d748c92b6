/**
 * `GroupConsumer` of the local log. The local log runs in one process, so a group
 * has a single member: it is assigned every partition of its subscribed topics at
 * `subscribe` (one `onAssign`), and gives them back at `close` (one `onRevoke`).
 * A second consumer of the same group cannot subscribe until the first is closed
 * (`GroupMemberConflictError`): with one member there is nothing to share.
 * `poll` rotates over the assigned, unpaused partitions starting from each one's
 * position (the committed offset, else 0 = earliest) and, when nothing is there,
 * sleeps until this process appends (no polling of the database).
 *
 * Not safe for overlapping `poll` calls; the runtime polls from one loop.
 */
import type {
  GroupConsumer,
  LogRecord,
  PartitionOffset,
  RebalanceListener,
  TopicPartition,
} from '../log-backend.js';
import { tpKey } from '../log-backend.js';
import { LogClosedError, PartitionNotAssignedError } from '../../errors/log-errors.js';
import type { LocalLogStore, TopicState } from './local-log-store.js';
import { checkNonNegativeInteger, checkTopicName } from './validate-arguments.js';

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
      position: committed.get(tpKey(tp)) ?? 0,
      paused: false,
    }));
    for (const partition of this.assigned) this.byKey.set(tpKey(partition.tp), partition);
    this.cursor = 0;
    this.listener = listener;
    await listener.onAssign(partitions);
  }

  async poll(maxRecords: number, timeoutMs: number): Promise<LogRecord[]> {
    this.assertOpen();
    checkNonNegativeInteger('maxRecords', maxRecords);
    const deadline = Date.now() + Math.max(0, timeoutMs);
    for (;;) {
      if (this.closed || this.store.isClosed || maxRecords === 0) return [];
      if (this.hasAvailable()) {
        const records = await this.fetch(maxRecords);
        if (records.length > 0 || Date.now() >= deadline) return records;
        continue;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) return [];
      // Registered synchronously after the check above, so no append can slip between.
      await this.store.appended.wait(remaining);
    }
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

  /** Reads from the partitions in turn, starting at `cursor`, until `maxRecords` or all were tried. */
  private async fetch(maxRecords: number): Promise<LogRecord[]> {
    const out: LogRecord[] = [];
    const count = this.assigned.length;
    const start = this.cursor;
    for (let i = 0; i < count && out.length < maxRecords; i++) {
      const index = (start + i) % count;
      const partition = this.assigned[index]!;
      if (partition.paused || partition.position >= partition.topic.high[partition.tp.partition]!) continue;
      const from = partition.position;
      const records = await this.store.read(partition.tp, from, maxRecords - out.length);
      // A seek, pause or new assignment while reading wins: drop what was read.
      if (this.byKey.get(tpKey(partition.tp)) !== partition || partition.paused || partition.position !== from) continue;
      if (records.length === 0) continue;
      partition.position = records[records.length - 1]!.offset + 1;
      for (const record of records) out.push(record);
      this.cursor = (index + 1) % count;
    }
    return out;
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
