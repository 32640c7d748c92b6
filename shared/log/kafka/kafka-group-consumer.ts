/**
 * `GroupConsumer` on a librdkafka KafkaConsumer with the `range` assignor and manual
 * commits. librdkafka hands rebalances to a JS callback and waits for `assign` /
 * `unassign`, so the listener is awaited first:
 *  - assign: `onAssign` resolves, then the partitions are assigned (with any offsets
 *    `seek` set meanwhile), so no record of them is delivered before it;
 *  - revoke: the partitions stop being delivered at once, `onRevoke` resolves, then
 *    they are unassigned;
 *  - lost (session expired): `onLost` (or `onRevoke` if absent) instead.
 * `close()` calls `onRevoke` for the whole assignment while still a member (so it may
 * commit), then leaves the group.
 */
import { CommitRejectedError, LogClosedError, PartitionNotAssignedError } from '../../errors/log-errors.js';
import {
  tpKey,
  type GroupConsumer,
  type ConsumerOptions,
  type LogRecord,
  type PartitionBatchSet,
  type PartitionOffset,
  type RebalanceListener,
  type TopicPartition,
} from '../log-backend.js';
import { groupConsumerConfig } from './client-config.js';
import type { KafkaContext } from './kafka-context.js';
import {
  callback,
  COMMIT_REJECTED_BY_REBALANCE,
  connect,
  disconnect,
  ErrorCode,
  isLibrdKafkaError,
  RdKafka,
  type KafkaConsumer,
  type LibrdKafkaError,
  type Message,
} from './rdkafka.js';
import { toLogRecord } from './record-conversion.js';
import { toEncodedRecords } from '../../protocol/record-batch.js';
import type { TopicMetadata } from './topic-metadata.js';

/** Registry of live members, so a transaction can send offsets with the member's group metadata. */
export interface GroupMembers {
  add(group: string, consumer: KafkaConsumer): void;
  remove(group: string, consumer: KafkaConsumer): void;
}

export class KafkaGroupConsumer implements GroupConsumer {
  private listener: RebalanceListener | undefined;
  /** Partitions the group gave this member (including while `onAssign` runs). */
  private readonly owned = new Map<string, TopicPartition>();
  /** Owned partitions actually assigned in librdkafka (records may flow). */
  private readonly active = new Set<string>();
  private readonly paused = new Set<string>();
  /** Offsets `seek` chose for partitions not yet active; applied at assign. */
  private readonly pendingOffsets = new Map<string, number>();
  /** Seeks librdkafka has not confirmed; `poll` waits for them. */
  private pendingSeeks: Promise<void>[] = [];
  /**
   * The last seek issued. Each seek runs on libuv's thread pool, so two seeks of one
   * partition issued together (a paused partition's rewind, then a redo's seek back to the
   * committed offset) could reach librdkafka in either order; chaining them keeps the order
   * in which they were made.
   */
  private lastSeek: Promise<void> = Promise.resolve();
  /** Bumped per partition by `seek`, so records fetched before it are dropped. */
  private readonly epochs = new Map<string, number>();
  /** The offset each partition was last sought to. */
  private readonly seekTargets = new Map<string, number>();
  private rebalances: Promise<void> = Promise.resolve();
  private polling: Promise<unknown> = Promise.resolve();
  private failure: Error | undefined;
  /** An assignment arrived: the member has a generation, commits are accepted. */
  private joined = false;
  /** Records fetched while `commit` waited for the join; `poll` returns them first. */
  private stash: Message[] = [];
  /** Listener calls running now; `close` from inside one must not wait for the rebalance it is part of. */
  private listenerCalls = 0;
  private closing = false;
  private closed = false;

  private constructor(
    private readonly context: KafkaContext,
    private readonly topics: TopicMetadata,
    private readonly members: GroupMembers,
    private readonly group: string,
    private readonly consumer: KafkaConsumer,
  ) {}

  static async open(
    context: KafkaContext,
    topics: TopicMetadata,
    members: GroupMembers,
    group: string,
    options: ConsumerOptions = {},
  ): Promise<KafkaGroupConsumer> {
    let self: KafkaGroupConsumer | undefined;
    let consumer: KafkaConsumer;
    try {
      consumer = new RdKafka.KafkaConsumer({
        ...groupConsumerConfig(context.config, group, options.autoOffsetReset),
        rebalance_cb: (error: LibrdKafkaError, assignment: TopicPartition[]) => self?.onRebalance(error, assignment),
      });
    } catch (error) {
      throw context.error(`create consumer of group "${group}"`, error);
    }
    context.attachLogging(consumer, `consumer ${group}`);
    try {
      await connect(consumer, context.requestTimeoutMs);
    } catch (error) {
      throw context.error(`connect consumer of group "${group}" to ${context.config.bootstrapServers}`, error);
    }
    // Wait for the first record only, then take what is already fetched.
    (consumer as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(value: boolean): void }).setDefaultIsTimeoutOnlyForFirstMessage(true);
    self = new KafkaGroupConsumer(context, topics, members, group, consumer);
    return self;
  }

  async subscribe(topics: readonly string[], listener: RebalanceListener): Promise<void> {
    this.assertOpen();
    for (const topic of topics) await this.topics.requireTopic(topic);
    this.listener = listener;
    try {
      this.consumer.subscribe([...topics]);
    } catch (error) {
      throw this.context.error(`subscribe group "${this.group}" to ${topics.join(', ')}`, error);
    }
    this.members.add(this.group, this.consumer);
  }

  async poll(maxRecords: number, timeoutMs: number): Promise<LogRecord[]> {
    this.assertOpen();
    const run = this.polling.then(() => this.pollOnce(maxRecords, timeoutMs));
    this.polling = run.catch(() => undefined);
    return run;
  }

  async pollBatches(maxRecords: number, timeoutMs: number): Promise<PartitionBatchSet[]> {
    // librdkafka hands out message objects: each is encoded once, into its partition's set.
    const records = await this.poll(maxRecords, timeoutMs);
    const byPartition = new Map<string, LogRecord[]>();
    for (const record of records) {
      const key = tpKey(record);
      let list = byPartition.get(key);
      if (list === undefined) byPartition.set(key, (list = []));
      list.push(record);
    }
    const sets: PartitionBatchSet[] = [];
    for (const list of byPartition.values()) {
      const { topic, partition, offset } = list[0]!;
      sets.push({ topic, partition, ...toEncodedRecords(list, offset) });
    }
    return sets;
  }

  private async pollOnce(maxRecords: number, timeoutMs: number): Promise<LogRecord[]> {
    if (this.failure) throw this.failure;
    if (this.pendingSeeks.length > 0) {
      const seeks = this.pendingSeeks;
      this.pendingSeeks = [];
      await Promise.all(seeks);
    }
    const epochs = new Map(this.epochs);
    if (this.stash.length > 0) {
      const stashed = this.stash.splice(0, maxRecords);
      return this.deliverable(stashed, epochs);
    }
    const messages = await this.consume(maxRecords, timeoutMs);
    if (this.failure) throw this.failure;
    return this.deliverable(messages, epochs);
  }

  private async consume(maxRecords: number, timeoutMs: number): Promise<Message[]> {
    this.consumer.setDefaultConsumeTimeout(Math.max(1, timeoutMs));
    try {
      return await callback<Message[]>((cb) => this.consumer.consume(maxRecords, cb));
    } catch (error) {
      throw this.context.error(`poll group "${this.group}"`, error);
    }
  }

  /**
   * A commit before the member joined would carry no generation and be dropped. The
   * join only completes while the consumer is polled, so poll here, keeping what arrives.
   */
  private async awaitJoin(): Promise<void> {
    const deadline = Date.now() + this.context.requestTimeoutMs * 3;
    while (!this.joined && this.listener !== undefined && Date.now() < deadline) {
      await this.polling;
      if (this.joined) break;
      const fetch = this.consume(500, 100).then((messages) => void this.stash.push(...messages));
      this.polling = fetch.catch(() => undefined);
      await fetch;
      await this.rebalances;
    }
  }

  /**
   * Records of partitions still active, unpaused and not sought since the fetch started.
   * A paused partition's dropped records are fetched again on resume. A partition sought
   * while the fetch ran is sought again to the same offset: librdkafka may have read its
   * records before the seek applied or after it (a fetch queued on the thread pool can run
   * after the seek), so what was dropped is either stale or the start of the new reading.
   */
  private deliverable(messages: readonly Message[], epochs: ReadonlyMap<string, number>): LogRecord[] {
    const records: LogRecord[] = [];
    let rewind: Map<string, Message> | undefined;
    let resought: Set<string> | undefined;
    for (const message of messages) {
      const key = tpKey(message);
      if (!this.active.has(key)) continue;
      if (this.epochs.get(key) !== epochs.get(key)) {
        (resought ??= new Set()).add(key);
        continue;
      }
      if (this.paused.has(key)) {
        rewind ??= new Map();
        if (!rewind.has(key)) rewind.set(key, message);
        continue;
      }
      records.push(toLogRecord(message));
    }
    if (rewind) {
      for (const message of rewind.values()) this.seek(message, message.offset);
    }
    for (const key of resought ?? []) {
      const tp = this.owned.get(key);
      const target = this.seekTargets.get(key);
      if (tp !== undefined && target !== undefined) this.seek(tp, target);
    }
    return records;
  }

  assignment(): readonly TopicPartition[] {
    return [...this.owned.values()];
  }

  pause(partitions: readonly TopicPartition[]): void {
    const toPause: TopicPartition[] = [];
    for (const tp of partitions) {
      const key = tpKey(tp);
      this.paused.add(key);
      if (this.active.has(key)) toPause.push({ topic: tp.topic, partition: tp.partition });
    }
    if (toPause.length > 0) this.consumer.pause(toPause);
  }

  resume(partitions: readonly TopicPartition[]): void {
    const toResume: TopicPartition[] = [];
    for (const tp of partitions) {
      const key = tpKey(tp);
      this.paused.delete(key);
      if (this.active.has(key)) toResume.push({ topic: tp.topic, partition: tp.partition });
    }
    if (toResume.length > 0) this.consumer.resume(toResume);
  }

  seek(partition: TopicPartition, offset: number): void {
    const key = tpKey(partition);
    if (!this.owned.has(key)) throw new PartitionNotAssignedError(this.group, partition.topic, partition.partition);
    this.epochs.set(key, (this.epochs.get(key) ?? 0) + 1);
    this.seekTargets.set(key, offset);
    if (!this.active.has(key)) {
      this.pendingOffsets.set(key, offset);
      return;
    }
    const target = { topic: partition.topic, partition: partition.partition, offset };
    // Waits for librdkafka to confirm the seek: a timeout of 0 becomes 10 ms in the client,
    // which a loaded machine exceeds, and an unconfirmed seek may not apply before the next fetch.
    const seek = this.lastSeek
      .then(() => callback<void>((cb) => this.consumer.seek(target, this.context.requestTimeoutMs, cb)))
      .catch((error: unknown) => {
        // A partition revoked meanwhile is read from its committed offset by its next owner.
        if (this.active.has(key)) this.failure ??= this.context.error(`seek ${key} to ${offset}`, error);
      });
    this.lastSeek = seek;
    this.pendingSeeks.push(seek);
  }

  async committed(partitions: readonly TopicPartition[]): Promise<Map<string, number | undefined>> {
    this.assertOpen();
    return readCommitted(this.context, this.consumer, this.group, partitions);
  }

  /**
   * Commits and waits for the broker's answer. `commitCb` would only say that librdkafka
   * queued the commit, so a commit the group refused during a rebalance looked like a
   * success and the member kept state whose records were then read again. The synchronous
   * commit holds this thread for one round trip to the coordinator, once per checkpoint.
   */
  async commit(offsets: readonly PartitionOffset[]): Promise<void> {
    this.assertOpen();
    if (offsets.length === 0) return;
    await this.awaitJoin();
    const toCommit = offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset }));
    try {
      this.consumer.commitSync(toCommit);
    } catch (error) {
      const rejected = isLibrdKafkaError(error) ? COMMIT_REJECTED_BY_REBALANCE.get(error.code) : undefined;
      if (rejected !== undefined) throw new CommitRejectedError(this.group, rejected);
      throw this.context.error(`commit offsets of group "${this.group}"`, error);
    }
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.listenerCalls === 0) {
      await this.polling;
      await this.rebalances;
    }
    // Revoke while still a member, so the listener can still commit.
    const revoked = [...this.owned.values()];
    this.active.clear();
    if (revoked.length > 0 && this.listener) {
      try {
        await this.listener.onRevoke(revoked);
      } catch (error) {
        this.context.log('error', `onRevoke at close of group "${this.group}" failed: ${String(error)}`);
      }
    }
    this.owned.clear();
    this.closed = true;
    this.members.remove(this.group, this.consumer);
    // librdkafka revokes again on close; the callback then only unassigns.
    await disconnect(this.consumer);
  }

  private assertOpen(): void {
    if (this.closed) throw new LogClosedError(`kafka consumer of group "${this.group}"`);
  }

  private onRebalance(error: LibrdKafkaError, assignment: TopicPartition[]): void {
    // Read now: librdkafka only knows it inside this rebalance.
    let lost = false;
    try {
      lost = (this.consumer as unknown as { assignmentLost(): boolean }).assignmentLost();
    } catch {
      lost = false;
    }
    const partitions = assignment.map(({ topic, partition }) => ({ topic, partition }));
    this.rebalances = this.rebalances.then(() =>
      error?.code === ErrorCode.ASSIGN_PARTITIONS ? this.assign(partitions) : this.revoke(partitions, lost),
    );
  }

  private async assign(partitions: TopicPartition[]): Promise<void> {
    // An assignment means the join completed: the member has a generation to commit with.
    this.joined = true;
    for (const tp of partitions) this.owned.set(tpKey(tp), tp);
    if (!this.closing && this.listener) {
      await this.callListener(() => this.listener!.onAssign(partitions));
    }
    const withOffsets = partitions.map((tp) => {
      const offset = this.pendingOffsets.get(tpKey(tp));
      this.pendingOffsets.delete(tpKey(tp));
      return offset === undefined ? tp : { ...tp, offset };
    });
    if (!this.safely(() => this.consumer.assign(withOffsets), 'assign')) return;
    for (const tp of partitions) this.active.add(tpKey(tp));
    const paused = partitions.filter((tp) => this.paused.has(tpKey(tp)));
    if (paused.length > 0) this.safely(() => this.consumer.pause(paused), 'pause');
  }

  private async revoke(partitions: TopicPartition[], lost: boolean): Promise<void> {
    // Stop delivering them before the listener checkpoints.
    for (const tp of partitions) this.active.delete(tpKey(tp));
    const listener = this.listener;
    if (!this.closing && listener && partitions.length > 0) {
      await this.callListener(() =>
        lost && listener.onLost ? listener.onLost(partitions) : listener.onRevoke(partitions),
      );
    }
    if (!this.closing) {
      for (const tp of partitions) {
        this.owned.delete(tpKey(tp));
        this.seekTargets.delete(tpKey(tp));
        this.paused.delete(tpKey(tp));
        this.pendingOffsets.delete(tpKey(tp));
      }
    }
    this.safely(() => this.consumer.unassign(), 'unassign');
  }

  /** A listener's failure is raised by the next `poll`. */
  private async callListener(call: () => Promise<void>): Promise<void> {
    this.listenerCalls++;
    try {
      await call();
    } catch (error) {
      this.failure ??= error instanceof Error ? error : new Error(String(error));
    } finally {
      this.listenerCalls--;
    }
  }

  /** librdkafka calls made from the rebalance callback fail harmlessly once disconnected. */
  private safely(call: () => void, what: string): boolean {
    try {
      call();
      return true;
    } catch (error) {
      if (this.consumer.isConnected()) {
        this.failure ??= this.context.error(`${what} in rebalance of group "${this.group}"`, error);
      }
      return false;
    }
  }

  /** For the backend: the underlying client (its group metadata goes with transactions). */
  get client(): KafkaConsumer {
    return this.consumer;
  }
}

/** Committed offsets of `group` through `consumer`; `undefined` where none was committed. */
export async function readCommitted(
  context: KafkaContext,
  consumer: KafkaConsumer,
  group: string,
  partitions: readonly TopicPartition[],
): Promise<Map<string, number | undefined>> {
  const result = new Map<string, number | undefined>();
  if (partitions.length === 0) return result;
  const query = partitions.map(({ topic, partition }) => ({ topic, partition }));
  let committed;
  try {
    committed = await callback<{ topic: string; partition: number; offset?: number }[]>((cb) =>
      consumer.committed(query, context.requestTimeoutMs, cb),
    );
  } catch (error) {
    throw context.error(`read committed offsets of group "${group}"`, error);
  }
  for (const tp of partitions) result.set(tpKey(tp), undefined);
  for (const entry of committed) {
    if (typeof entry.offset === 'number' && entry.offset >= 0) result.set(tpKey(entry), entry.offset);
  }
  return result;
}
