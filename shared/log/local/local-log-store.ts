/**
 * The storage core of the local log: one LevelDB database holding topics, records,
 * watermarks and group offsets (layout in `key-layout.ts`). The backend, producer,
 * consumers and readers are thin views over it.
 *
 * Writes go through one queue drained by a single writer, so records reach LevelDB
 * in offset order and every write is one atomic LevelDB batch: the records, the new
 * high watermarks of the partitions they touch, and (for `appendAndCommit`) the
 * group offsets. Writes that queue up while a batch is being written are merged
 * into the next batch (group commit). Readers only see offsets below the in-memory
 * high watermark, which moves forward after the batch holding them was written.
 */
import type {
  AppendRecord,
  AppendResult,
  LogRecord,
  PartitionOffset,
  TopicConfig,
  TopicPartition,
  EncodedRecords,
} from '../log-backend.js';
import { tpKey } from '../log-backend.js';
import { partitionForKey } from '../murmur2-partitioner.js';
import {
  GroupMemberConflictError,
  LogClosedError,
  LogFormatError,
  PartitionOutOfRangeError,
  TopicNotFoundError,
  TopicPartitionCountMismatchError,
} from '../../errors/log-errors.js';
import { AppendSignal } from './append-signal.js';
import {
  encodeUint64,
  FORMAT_KEY,
  groupOffsetKey,
  offsetFromRecordKey,
  parseWatermarkKey,
  readUint64,
  RECORD_KEY_BYTES,
  recordKey,
  TOPIC_RANGE,
  topicKey,
  topicNameFromKey,
  WATERMARK_RANGE,
  watermarkKey,
  writeRecordKey,
} from './key-layout.js';
import { openLogDatabase, type LogDatabase, type OpenRetry } from './open-log-database.js';
import { encodedRecordSize, readRecord, transcodeToRecordBatch, writeRecord } from './record-codec.js';
import {
  checkBytes,
  checkGroup,
  checkNonNegativeInteger,
  checkPartitionCount,
  checkTimestamp,
  checkTopicName,
} from './validate-arguments.js';

const FORMAT_VERSION = 1;

/** A topic as the store keeps it in memory. */
export interface TopicState {
  readonly name: string;
  readonly id: number;
  readonly partitions: number;
  readonly config: TopicConfig;
  /** Per partition: next offset to be written, as far as readers may see (durable). */
  readonly high: number[];
  /** Per partition: next offset to hand out; ahead of `high` while writes are queued. */
  readonly reserved: number[];
  /** Next partition for a record with neither key nor partition. */
  nextRoundRobin: number;
}

interface StoredTopicMeta {
  readonly id: number;
  readonly partitions: number;
  readonly config: TopicConfig;
}

/** A group's offsets to write in the same batch as some records. */
export interface GroupOffsets {
  readonly group: string;
  readonly offsets: readonly PartitionOffset[];
}

interface QueuedWrite {
  readonly keys: Buffer[];
  readonly values: Buffer[];
  /** Makes the write visible (moves high watermarks); runs after the batch is written. */
  readonly publish: () => void;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export interface LocalLogStoreOptions {
  readonly sync: boolean;
  readonly lockRetry: OpenRetry;
}

export class LocalLogStore {
  /** Fired after every write becomes visible. */
  readonly appended = new AppendSignal();
  private readonly topics = new Map<string, TopicState>();
  private nextTopicId: number;
  private queue: QueuedWrite[] = [];
  private draining: Promise<void> | undefined;
  private topicCreation: Promise<unknown> = Promise.resolve();
  /** Groups with a subscribed member: the local log gives a group exactly one. */
  private readonly groupMembers = new Map<string, object>();
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly db: LogDatabase,
    private readonly sync: boolean,
    topics: readonly TopicState[],
  ) {
    let maxId = -1;
    for (const topic of topics) {
      this.topics.set(topic.name, topic);
      maxId = Math.max(maxId, topic.id);
    }
    this.nextTopicId = maxId + 1;
  }

  static async open(path: string, options: LocalLogStoreOptions): Promise<LocalLogStore> {
    const db = await openLogDatabase(path, options.lockRetry);
    try {
      await checkFormat(db, path);
      const topics = await loadTopics(db);
      return new LocalLogStore(path, db, options.sync, topics);
    } catch (error) {
      await db.close();
      throw error;
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  assertOpen(what = `local log ${this.path}`): void {
    if (this.closed) throw new LogClosedError(what);
  }

  /** The topic named `name`; throws `TopicNotFoundError`. */
  topic(name: string): TopicState {
    const topic = this.topics.get(name);
    if (topic === undefined) throw new TopicNotFoundError(name);
    return topic;
  }

  /** The topic of `tp`, after checking its partition is in range. */
  topicOf(tp: TopicPartition): TopicState {
    const topic = this.topic(tp.topic);
    checkPartition(topic, tp.partition);
    return topic;
  }

  listTopics(): TopicState[] {
    return [...this.topics.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  hasTopic(name: string): boolean {
    return this.topics.has(name);
  }

  async createTopic(name: string, partitions: number, config: TopicConfig = {}): Promise<void> {
    this.assertOpen();
    checkTopicName(name);
    checkPartitionCount(partitions);
    // One creation at a time, so two concurrent creates of one name cannot both insert.
    const creation = this.topicCreation.then(async () => {
      const existing = this.topics.get(name);
      if (existing !== undefined) {
        if (existing.partitions !== partitions) {
          throw new TopicPartitionCountMismatchError(name, existing.partitions, partitions);
        }
        return;
      }
      const meta: StoredTopicMeta = { id: this.nextTopicId++, partitions, config: { ...config } };
      await this.enqueue([topicKey(name)], [Buffer.from(JSON.stringify(meta))], () => {
        this.topics.set(name, newTopicState(name, meta, new Array<number>(partitions).fill(0)));
      });
    });
    this.topicCreation = creation.catch(() => undefined);
    await creation;
  }

  /**
   * Appends `records` (and commits `commit`, if given) as one atomic write; resolves
   * once it is durable, with each record's offset in input order.
   */
  async write(records: readonly AppendRecord[], commit?: GroupOffsets): Promise<AppendResult[]> {
    this.assertOpen();
    if (records.length === 0 && commit === undefined) return [];
    // Validate everything first: an invalid record must not leave reserved offsets behind.
    const count = records.length;
    const targets = new Array<TopicState>(count);
    const partitions = new Array<number>(count);
    let valueBytes = 0;
    for (let i = 0; i < count; i++) {
      const record = records[i]!;
      const topic = this.topic(record.topic);
      let partition = record.partition;
      if (partition === undefined) {
        partition = record.key === null ? topic.nextRoundRobin : partitionForKey(record.key, topic.partitions);
      } else {
        checkPartition(topic, partition);
      }
      if (record.timestamp !== undefined) checkTimestamp(record.timestamp);
      checkBytes('key', record.key);
      checkBytes('value', record.value);
      targets[i] = topic;
      partitions[i] = partition;
      valueBytes += encodedRecordSize(record);
    }
    const offsetKeys: Buffer[] = [];
    const offsetValues: Buffer[] = [];
    if (commit !== undefined) {
      checkGroup(commit.group);
      for (const offset of commit.offsets) {
        const topic = this.topicOf(offset);
        checkNonNegativeInteger('offset', offset.offset);
        offsetKeys.push(groupOffsetKey(commit.group, topic.id, offset.partition));
        offsetValues.push(encodeUint64(offset.offset));
      }
    }

    // Reserve offsets and encode; keys and values of the whole call share one buffer.
    const buffer = Buffer.allocUnsafe(count * RECORD_KEY_BYTES + valueBytes);
    const keys = new Array<Buffer>(count);
    const values = new Array<Buffer>(count);
    const results = new Array<AppendResult>(count);
    const ends = new Map<TopicState, Map<number, number>>();
    const now = Date.now();
    let pos = count * RECORD_KEY_BYTES;
    for (let i = 0; i < count; i++) {
      const record = records[i]!;
      const topic = targets[i]!;
      const partition = partitions[i]!;
      if (record.partition === undefined && record.key === null) {
        topic.nextRoundRobin = (topic.nextRoundRobin + 1) % topic.partitions;
      }
      const offset = topic.reserved[partition]!++;
      const keyAt = i * RECORD_KEY_BYTES;
      writeRecordKey(buffer, keyAt, topic.id, partition, offset);
      keys[i] = buffer.subarray(keyAt, keyAt + RECORD_KEY_BYTES);
      const end = writeRecord(buffer, pos, record, record.timestamp ?? now);
      values[i] = buffer.subarray(pos, end);
      pos = end;
      results[i] = { topic: topic.name, partition, offset };
      let topicEnds = ends.get(topic);
      if (topicEnds === undefined) ends.set(topic, (topicEnds = new Map()));
      topicEnds.set(partition, offset + 1);
    }
    for (const [topic, topicEnds] of ends) {
      for (const [partition, end] of topicEnds) {
        keys.push(watermarkKey(topic.id, partition));
        values.push(encodeUint64(end));
      }
    }
    keys.push(...offsetKeys);
    values.push(...offsetValues);

    await this.enqueue(keys, values, () => {
      for (const [topic, topicEnds] of ends) {
        for (const [partition, end] of topicEnds) {
          if (end > topic.high[partition]!) topic.high[partition] = end;
        }
      }
    });
    return results;
  }

  /** Up to `maxRecords` records of a partition from `fromOffset`, in offset order. */
  async read(tp: TopicPartition, fromOffset: number, maxRecords: number): Promise<LogRecord[]> {
    this.assertOpen();
    const topic = this.topicOf(tp);
    checkNonNegativeInteger('fromOffset', fromOffset);
    checkNonNegativeInteger('maxRecords', maxRecords);
    const high = topic.high[tp.partition]!;
    if (fromOffset >= high || maxRecords === 0) return [];
    const end = Math.min(high, fromOffset + maxRecords);
    const entries = await this.db
      .iterator({ gte: recordKey(topic.id, tp.partition, fromOffset), lt: recordKey(topic.id, tp.partition, end) })
      .all();
    const records = new Array<LogRecord>(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const [key, value] = entries[i]!;
      records[i] = readRecord(value, topic.name, tp.partition, offsetFromRecordKey(key), this.path);
    }
    return records;
  }

  /**
   * Like {@link read}, but transcoded straight from the stored bytes into the thread
   * protocol's record batch encoding (see record-codec.ts `transcodeToRecordBatch`).
   */
  async readEncoded(tp: TopicPartition, fromOffset: number, maxRecords: number): Promise<EncodedRecords> {
    this.assertOpen();
    const topic = this.topicOf(tp);
    checkNonNegativeInteger('fromOffset', fromOffset);
    checkNonNegativeInteger('maxRecords', maxRecords);
    const high = topic.high[tp.partition]!;
    if (fromOffset >= high || maxRecords === 0) {
      return { ...transcodeToRecordBatch(topic.name, tp.partition, [], [], this.path), nextOffset: fromOffset };
    }
    const end = Math.min(high, fromOffset + maxRecords);
    const entries = await this.db
      .iterator({ gte: recordKey(topic.id, tp.partition, fromOffset), lt: recordKey(topic.id, tp.partition, end) })
      .all();
    const offsets = entries.map(([key]) => offsetFromRecordKey(key));
    // The local log has no gaps: reading goes on right after the range read.
    return { ...transcodeToRecordBatch(topic.name, tp.partition, offsets, entries.map(([, value]) => value), this.path), nextOffset: end };
  }

  /** Committed offsets of `group`; `undefined` where it never committed. */
  async committed(group: string, partitions: readonly TopicPartition[]): Promise<Map<string, number | undefined>> {
    this.assertOpen();
    checkGroup(group);
    const keys = partitions.map((tp) => groupOffsetKey(group, this.topicOf(tp).id, tp.partition));
    const values = keys.length === 0 ? [] : await this.db.getMany(keys);
    const result = new Map<string, number | undefined>();
    partitions.forEach((tp, i) => {
      const value = values[i];
      result.set(tpKey(tp), value === undefined ? undefined : readUint64(value, 0));
    });
    return result;
  }

  /** Registers `member` as the group's only member; throws `GroupMemberConflictError` if it has another. */
  joinGroup(group: string, member: object): void {
    const current = this.groupMembers.get(group);
    if (current !== undefined && current !== member) throw new GroupMemberConflictError(group);
    this.groupMembers.set(group, member);
  }

  leaveGroup(group: string, member: object): void {
    if (this.groupMembers.get(group) === member) this.groupMembers.delete(group);
  }

  async commit(group: string, offsets: readonly PartitionOffset[]): Promise<void> {
    await this.write([], { group, offsets });
  }

  /** Waits for queued writes, wakes waiting consumers and closes the database. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.draining !== undefined) await this.draining;
    this.appended.fire();
    await this.db.close();
  }

  private enqueue(keys: Buffer[], values: Buffer[], publish: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ keys, values, publish, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const writes = this.queue;
        this.queue = [];
        const batch = this.db.batch();
        for (const write of writes) {
          for (let i = 0; i < write.keys.length; i++) batch.put(write.keys[i]!, write.values[i]!);
        }
        try {
          await batch.write({ sync: this.sync });
        } catch (error) {
          // Writes queued behind a failed one reserved offsets after it: fail them too
          // and hand out offsets from the durable watermarks again.
          const failed = [...writes, ...this.queue];
          this.queue = [];
          for (const topic of this.topics.values()) topic.reserved.splice(0, topic.partitions, ...topic.high);
          for (const write of failed) write.reject(error);
          continue;
        }
        for (const write of writes) {
          write.publish();
          write.resolve();
        }
        this.appended.fire();
      }
    } finally {
      this.draining = undefined;
    }
  }
}

function checkPartition(topic: TopicState, partition: number): void {
  if (!Number.isInteger(partition) || partition < 0 || partition >= topic.partitions) {
    throw new PartitionOutOfRangeError(topic.name, partition, topic.partitions);
  }
}

function newTopicState(name: string, meta: StoredTopicMeta, high: number[]): TopicState {
  return {
    name,
    id: meta.id,
    partitions: meta.partitions,
    config: meta.config,
    high,
    reserved: [...high],
    nextRoundRobin: 0,
  };
}

async function checkFormat(db: LogDatabase, path: string): Promise<void> {
  const stored = await db.get(FORMAT_KEY);
  if (stored === undefined) {
    await db.put(FORMAT_KEY, Buffer.from(JSON.stringify(FORMAT_VERSION)), { sync: true });
    return;
  }
  const version: unknown = JSON.parse(stored.toString('utf8'));
  if (version !== FORMAT_VERSION) {
    throw new LogFormatError(path, `format version ${String(version)} is not supported (this build reads ${FORMAT_VERSION})`);
  }
}

async function loadTopics(db: LogDatabase): Promise<TopicState[]> {
  const metas = await db.iterator(TOPIC_RANGE).all();
  const watermarks = await db.iterator(WATERMARK_RANGE).all();
  const highById = new Map<number, number[]>();
  const topics = metas.map(([key, value]) => {
    const meta = JSON.parse(value.toString('utf8')) as StoredTopicMeta;
    const high = new Array<number>(meta.partitions).fill(0);
    highById.set(meta.id, high);
    return { name: topicNameFromKey(key), meta, high };
  });
  for (const [key, value] of watermarks) {
    const { topicId, partition } = parseWatermarkKey(key);
    const high = highById.get(topicId);
    if (high !== undefined && partition < high.length) high[partition] = readUint64(value, 0);
  }
  return topics.map(({ name, meta, high }) => newTopicState(name, meta, high));
}
