/**
 * The storage core of the local log: one LevelDB database holding topics, record
 * batches, watermarks, group offsets and compaction checkpoints (layout in
 * `key-layout.ts`, docs/local-log.md). The backend, producer, consumers and readers are
 * thin views over it; the compactor (`log-compactor.ts`) works on it in the background.
 *
 * Records are stored as record batches (shared/protocol/record-batch.ts), one LevelDB
 * entry per appended batch per partition, keyed by the batch's last and base offsets.
 * `appendBatches` stores the caller's bytes as they are; `write` encodes the records of
 * each partition into batches first. A read is one forward seek and copies whole stored
 * batches: no work per record on the data plane (`appendBatches`, `readEncoded`,
 * `pollBatches`).
 *
 * Writes go through one queue drained by a single writer, so batches reach LevelDB in
 * offset order and every write is one atomic LevelDB batch: the record batches, the new
 * high watermarks of the partitions they touch, and (for the `…AndCommit` variants) the
 * group offsets. Writes that queue up while a batch is being written are merged into
 * the next batch (group commit). Readers only see entries below the in-memory high
 * watermark, which moves forward after the batch holding them was written.
 */
import type {
  AppendBatch,
  AppendBatchResult,
  AppendRecord,
  AppendResult,
  EncodedRecords,
  LogRecord,
  PartitionOffset,
  RecordHeader,
  TopicConfig,
  TopicPartition,
} from '../log-backend.js';
import { tpKey } from '../log-backend.js';
import { partitionForKey } from '../murmur2-partitioner.js';
import {
  GroupMemberConflictError,
  InvalidLogArgumentError,
  InvalidRecordBatchError,
  LogClosedError,
  LogWriteError,
  PartitionOutOfRangeError,
  TopicNotFoundError,
  TopicPartitionCountMismatchError,
} from '../../errors/log-errors.js';
import {
  batchInfo,
  buildBatchSet,
  forEachRecord,
  RecordBatchBuilder,
} from '../../protocol/record-batch.js';
import { releaseWholeView } from '../../protocol/array-buffer-release.js';
import { chunkBytes, closeIterator } from '../../leveldb/iterator-close.js';
import { readMany } from '../../leveldb/read-many.js';
import { AppendSignal } from './append-signal.js';
import { RecentBatches, type RecentBatch } from './recent-batches.js';
import { StoredReadBuilder, type StoredRead } from './stored-read.js';
import { checkFormat, loadTopics, newTopicState, type StoredTopicMeta, type TopicState } from './stored-topics.js';

import {
  batchKey,
  batchSeekKey,
  encodeUint64,
  groupOffsetKey,
  readUint64,
  topicKey,
  watermarkKey,
} from './key-layout.js';
import { type CompactionStats, LogCompactor } from './log-compactor.js';
import { openLogDatabase, type LogDatabase, type OpenRetry } from './open-log-database.js';
import {
  checkBytes,
  checkGroup,
  checkNonNegativeInteger,
  checkPartitionCount,
  checkTimestamp,
  checkTopicName,
  MAX_PARTITIONS_PER_TOPIC,
} from './validate-arguments.js';

/** `write` splits a partition's records into batches of at most this many records… */
export const WRITE_BATCH_RECORDS = 1_000;
/** …or about this many bytes (a batch is closed once it reaches it). */
export const WRITE_BATCH_BYTES = 1024 * 1024;
/** How much a read asks LevelDB for at a time (it stops once past it). */
const READ_CHUNK_BYTES = 4 * 1024 * 1024;
/** Most stored batches one `nextv` of a read asks for. */
const READ_CHUNK_ENTRIES = 1_000;

const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);

/** A group's offsets to write in the same batch as some records. */
export interface GroupOffsets {
  readonly group: string;
  readonly offsets: readonly PartitionOffset[];
}

/** A write waiting in the queue that `drain` writes as one LevelDB batch. */
interface QueuedWrite {
  /** Deleted before `keys` are put (compaction rewrites). */
  readonly deletes: readonly Buffer[];
  readonly keys: readonly Buffer[];
  readonly values: readonly Buffer[];
  /** Makes the write visible (moves high watermarks); runs after the batch is written. */
  readonly publish: () => void;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** One partition's part of `readStoredMany`: `readStored`'s arguments. */
export interface PartitionRead {
  readonly topic: TopicState;
  readonly partition: number;
  readonly fromOffset: number;
  readonly maxRecords: number;
}

/** What one write appends to one partition. */
interface PartitionAppend {
  readonly topic: TopicState;
  readonly partition: number;
  /** The partition's next offset after the write. */
  end: number;
  records: number;
  batches: number;
  /** The batches' keys and offsets, in offset order (remembered for tail reads once published). */
  readonly appended: RecentBatch[];
}

/** Records of one `write` call bound for one partition. */
interface PartitionGroup {
  readonly topic: TopicState;
  readonly partition: number;
  readonly indices: number[];
  bytes: number;
}

export interface LocalLogStoreOptions {
  readonly sync: boolean;
  readonly lockRetry: OpenRetry;
  /** Tombstones older than this (record timestamp) are removed by compaction. */
  readonly deleteRetentionMs: number;
  /** Floor of the appended-since-last-pass records that make a compact partition due. */
  readonly compactionMinDirtyRecords: number;
  /** Part of the time background compaction may work (log-compactor.ts). */
  readonly compactionBackgroundShare: number;
  /** How long background compaction waits before its passes start (log-compactor.ts). */
  readonly compactionBackgroundDelayMs: number;
  /** Most keys one compaction pass maps (log-compactor.ts). */
  readonly compactionMaxKeysPerPass: number;
}

const NO_DELETES: readonly Buffer[] = Object.freeze([]);

export class LocalLogStore {
  /** Per topic id (not compacted ones), the batches last appended to each partition (see `readStoredMany`). */
  private readonly recent = new Map<number, RecentBatches>();
  /** Fired after every write becomes visible. */
  readonly appended = new AppendSignal();
  private readonly topics = new Map<string, TopicState>();
  private readonly compactor: LogCompactor;
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
    options: LocalLogStoreOptions,
  ) {
    let maxId = -1;
    for (const topic of topics) {
      this.topics.set(topic.name, topic);
      maxId = Math.max(maxId, topic.id);
    }
    this.nextTopicId = maxId + 1;
    this.compactor = new LogCompactor(
      { db, rewrite: (deletes, keys, values) => this.enqueue(deletes, keys, values, () => {}) },
      {
        deleteRetentionMs: options.deleteRetentionMs,
        minDirtyRecords: options.compactionMinDirtyRecords,
        backgroundShare: options.compactionBackgroundShare,
        backgroundDelayMs: options.compactionBackgroundDelayMs,
        maxKeysPerPass: options.compactionMaxKeysPerPass,
        onError: (error, topic, partition) => {
          const reason = error instanceof Error ? error.message : String(error);
          process.emitWarning(`local log ${path}: compaction of ${topic}[${partition}] failed: ${reason}`, {
            code: 'WEIR_LOG_COMPACTION',
          });
        },
      },
    );
    // Partitions that were due when the log was closed.
    for (const topic of topics) {
      if (topic.config.compact !== true) continue;
      for (let partition = 0; partition < topic.partitions; partition++) this.compactor.appended(topic, partition);
    }
  }

  static async open(path: string, options: LocalLogStoreOptions): Promise<LocalLogStore> {
    const db = await openLogDatabase(path, options.lockRetry);
    try {
      await checkFormat(db, path);
      const topics = await loadTopics(db, path);
      return new LocalLogStore(path, db, options.sync, topics, options);
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
      await this.enqueue(NO_DELETES, [topicKey(name)], [Buffer.from(JSON.stringify(meta))], () => {
        this.topics.set(name, newTopicState(name, meta, new Array<number>(partitions).fill(0)));
      });
    });
    this.topicCreation = creation.catch(() => undefined);
    await creation;
  }

  /**
   * Appends `records` (and commits `commit`, if given) as one atomic write; resolves
   * once it is durable, with each record's offset in input order. The records of each
   * partition are encoded as record batches of up to {@link WRITE_BATCH_RECORDS}
   * records or about {@link WRITE_BATCH_BYTES}.
   */
  async write(records: readonly AppendRecord[], commit?: GroupOffsets): Promise<AppendResult[]> {
    this.assertOpen();
    if (records.length === 0 && commit === undefined) return [];
    // Validate everything first: an invalid record must not leave reserved offsets behind.
    const count = records.length;
    const groups = new Map<number, PartitionGroup>();
    const roundRobin = new Map<TopicState, number>();
    for (let i = 0; i < count; i++) {
      const record = records[i]!;
      const topic = this.topic(record.topic);
      let partition = record.partition;
      if (partition === undefined) {
        if (record.key === null) {
          // All of a call's records with neither key nor partition go to one partition; the rotation moves on per record.
          partition = topic.nextRoundRobin;
          roundRobin.set(topic, (roundRobin.get(topic) ?? 0) + 1);
        } else {
          partition = partitionForKey(record.key, topic.partitions);
        }
      } else {
        checkPartition(topic, partition);
      }
      if (record.timestamp !== undefined) checkTimestamp(record.timestamp);
      checkBytes('key', record.key);
      checkBytes('value', record.value);
      const id = topic.id * MAX_PARTITIONS_PER_TOPIC + partition;
      let group = groups.get(id);
      if (group === undefined) groups.set(id, (group = { topic, partition, indices: [], bytes: 0 }));
      group.indices.push(i);
      group.bytes += 22 + (record.key?.length ?? 0) + (record.value?.length ?? 0) + (record.headers === undefined ? 0 : 64 * record.headers.length);
    }
    const offsetKeys: Buffer[] = [];
    const offsetValues: Buffer[] = [];
    if (commit !== undefined) this.groupOffsetEntries(commit, offsetKeys, offsetValues);

    // Encode with offsets counted from the reservations; reserve only once all is encoded.
    const keys: Buffer[] = [];
    const values: Buffer[] = [];
    const results = new Array<AppendResult>(count);
    const appends: PartitionAppend[] = [];
    const now = Date.now();
    for (const { topic, partition, indices, bytes } of groups.values()) {
      let offset = topic.reserved[partition]!;
      const append: PartitionAppend = { topic, partition, end: offset, records: indices.length, batches: 0, appended: [] };
      let builder: RecordBatchBuilder | undefined;
      let base = offset;
      let remainingBytes = bytes;
      const flush = (): void => {
        if (builder === undefined) return;
        const key = batchKey(topic.id, partition, offset - 1, base);
        keys.push(key);
        values.push(toBuffer(builder.finish()));
        append.batches++;
        append.appended.push({ key, baseOffset: base, lastOffset: offset - 1 });
        builder = undefined;
      };
      for (const i of indices) {
        const record = records[i]!;
        if (builder === undefined) {
          builder = new RecordBatchBuilder(Math.min(remainingBytes, WRITE_BATCH_BYTES) + 64);
          base = offset;
        }
        const before = builder.byteLength;
        builder.add(record.timestamp ?? now, record.key, record.value, record.headers ?? NO_HEADERS);
        remainingBytes -= builder.byteLength - before;
        results[i] = { topic: topic.name, partition, offset };
        offset++;
        if (builder.count >= WRITE_BATCH_RECORDS || builder.byteLength >= WRITE_BATCH_BYTES) flush();
      }
      flush();
      append.end = offset;
      appends.push(append);
    }
    for (const append of appends) append.topic.reserved[append.partition] = append.end;
    for (const [topic, n] of roundRobin) topic.nextRoundRobin = (topic.nextRoundRobin + n) % topic.partitions;
    await this.enqueueAppend(keys, values, appends, offsetKeys, offsetValues);
    return results;
  }

  /**
   * Appends encoded record batches as they are (and commits `commit`, if given) as one
   * atomic write; resolves once it is durable with each batch's offsets in input order.
   * A batch of n records (dense) takes offsets base … base+n−1; an empty batch is
   * skipped and reported with `lastOffset = baseOffset − 1`.
   */
  async appendBatches(batches: readonly AppendBatch[], commit?: GroupOffsets): Promise<AppendBatchResult[]> {
    this.assertOpen();
    if (batches.length === 0 && commit === undefined) return [];
    const count = batches.length;
    const topics = new Array<TopicState>(count);
    const spans = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      const append = batches[i]!;
      const topic = this.topicOf(append);
      const bytes = append.batch;
      if (!(bytes instanceof Uint8Array)) throw new InvalidLogArgumentError('batch', bytes, 'a record batch (Uint8Array)');
      spans[i] = batchSpan(bytes, topic.name, append.partition);
      topics[i] = topic;
    }
    const offsetKeys: Buffer[] = [];
    const offsetValues: Buffer[] = [];
    if (commit !== undefined) this.groupOffsetEntries(commit, offsetKeys, offsetValues);

    const keys: Buffer[] = [];
    const values: Buffer[] = [];
    const results = new Array<AppendBatchResult>(count);
    const appends = new Map<number, PartitionAppend>();
    for (let i = 0; i < count; i++) {
      const topic = topics[i]!;
      const { partition, batch } = batches[i]!;
      const span = spans[i]!;
      const baseOffset = topic.reserved[partition]!;
      const lastOffset = baseOffset + span - 1;
      results[i] = { topic: topic.name, partition, baseOffset, lastOffset };
      if (span === 0) continue;
      topic.reserved[partition] = lastOffset + 1;
      const key = batchKey(topic.id, partition, lastOffset, baseOffset);
      keys.push(key);
      values.push(toBuffer(batch));
      const id = topic.id * MAX_PARTITIONS_PER_TOPIC + partition;
      let append = appends.get(id);
      if (append === undefined) appends.set(id, (append = { topic, partition, end: 0, records: 0, batches: 0, appended: [] }));
      append.appended.push({ key, baseOffset, lastOffset });
      append.end = lastOffset + 1;
      append.records += batchInfo(batch).count;
      append.batches++;
    }
    await this.enqueueAppend(keys, values, [...appends.values()], offsetKeys, offsetValues);
    return results;
  }

  /** Up to `maxRecords` records of a partition from `fromOffset`, in offset order. */
  async read(tp: TopicPartition, fromOffset: number, maxRecords: number): Promise<LogRecord[]> {
    const topic = this.checkRead(tp, fromOffset, maxRecords);
    return decodeStored(await this.readStored(topic, tp.partition, fromOffset, maxRecords), topic.name, tp.partition, fromOffset, maxRecords);
  }

  /**
   * The records `read` would give (and up to one stored batch more: whole batches are
   * copied) as one batch set, without decoding a record.
   */
  async readEncoded(tp: TopicPartition, fromOffset: number, maxRecords: number): Promise<EncodedRecords> {
    const topic = this.checkRead(tp, fromOffset, maxRecords);
    return encodeStored(await this.readStored(topic, tp.partition, fromOffset, maxRecords), fromOffset);
  }

  /**
   * Stored batches of `partition` holding records from `fromOffset`, in offset order,
   * until they hold `maxRecords` records (whole batches; a read that ends inside its last batch says where, `toOffset`) or the
   * high watermark is reached. One forward seek, then `nextv` chunks.
   */
  async readStored(topic: TopicState, partition: number, fromOffset: number, maxRecords: number): Promise<StoredRead> {
    this.assertOpen();
    const high = topic.high[partition]!;
    if (fromOffset >= high || maxRecords === 0) return { batches: [], count: 0, lastOffset: -1, nextOffset: fromOffset };
    const end = batchSeekKey(topic.id, partition, high);
    const iterator = this.db.iterator({
      gte: batchSeekKey(topic.id, partition, fromOffset),
      lt: end,
      highWaterMarkBytes: READ_CHUNK_BYTES,
    });
    const read = new StoredReadBuilder(fromOffset, maxRecords);
    // Entries per nextv: enough for maxRecords at the partition's records per batch, then
    // at the rate this read sees, at least doubling (LevelDB also stops at READ_CHUNK_BYTES).
    const estimate = topic.recordsPerBatch[partition]!;
    let size = estimate > 0 ? Math.ceil(maxRecords / estimate) : 1;
    let lastChunkBytes = 0;
    try {
      while (!read.full) {
        const entries = await iterator.nextv(Math.min(READ_CHUNK_ENTRIES, size));
        if (entries.length === 0) break;
        lastChunkBytes = chunkBytes(entries);
        for (const [key, value] of entries) {
          read.add(key, value);
          if (read.full) break;
        }
        size = Math.max(size * 2, Math.ceil((maxRecords - read.count) / Math.max(1, read.recordsSeen / read.entriesSeen)));
      }
    } finally {
      await closeIterator(iterator, lastChunkBytes, end);
    }
    if (estimate === 0 && read.recordsSeen > 0) topic.recordsPerBatch[partition] = read.recordsSeen / read.entriesSeen;
    return read.result();
  }

  /**
   * `readStored` for several partitions at once. A read at a partition's tail (from one
   * of the batches last appended to it, see `RecentBatches`) gets its entries by key,
   * all such reads at once (`readMany`: entries appended moments ago, a few read
   * synchronously); the others read by iterator, all at once.
   */
  async readStoredMany(reads: readonly PartitionRead[]): Promise<StoredRead[]> {
    this.assertOpen();
    const results = new Array<StoredRead | Promise<StoredRead>>(reads.length);
    const tailKeys: Buffer[][] = [];
    const tailReads: number[] = [];
    reads.forEach(({ topic, partition, fromOffset, maxRecords }, i) => {
      const high = topic.high[partition]!;
      const keys = fromOffset >= high || maxRecords === 0 ? undefined : this.recent.get(topic.id)?.keysFrom(partition, fromOffset, maxRecords, high);
      if (keys === undefined) results[i] = this.readStored(topic, partition, fromOffset, maxRecords);
      else {
        tailKeys.push(keys);
        tailReads.push(i);
      }
    });
    if (tailReads.length > 0) {
      const keys = tailKeys.flat();
      const values = await readMany<Buffer, Buffer>(this.db, keys);
      let v = 0;
      tailReads.forEach((i, t) => {
        const { topic, partition, fromOffset, maxRecords } = reads[i]!;
        const read = new StoredReadBuilder(fromOffset, maxRecords);
        let complete = true;
        for (const key of tailKeys[t]!) {
          const value = values[v++];
          if (value === undefined) complete = false;
          else if (complete && !read.full) read.add(key, value);
        }
        // An entry gone meanwhile (not expected outside compaction): read by iterator.
        results[i] = complete ? read.result() : this.readStored(topic, partition, fromOffset, maxRecords);
      });
    }
    return Promise.all(results);
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

  /**
   * Compacts the `compact` topics (or only `topicName`) until everything appended
   * before the call is compacted. Throws `InvalidLogArgumentError` for a topic that
   * is not compacted.
   */
  async compact(topicName?: string): Promise<CompactionStats> {
    this.assertOpen();
    let topics: TopicState[];
    if (topicName === undefined) {
      topics = this.listTopics().filter((topic) => topic.config.compact === true);
    } else {
      const topic = this.topic(topicName);
      if (topic.config.compact !== true) {
        throw new InvalidLogArgumentError('topic', topicName, 'a topic created with { compact: true } (only those are compacted)');
      }
      topics = [topic];
    }
    return this.compactor.compact(topics);
  }

  /**
   * Stops compaction between two of its steps, waits for queued writes, wakes waiting
   * consumers and closes the database. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.compactor.stop();
    while (this.draining !== undefined) await this.draining;
    this.appended.fire();
    await this.db.close();
  }

  private checkRead(tp: TopicPartition, fromOffset: number, maxRecords: number): TopicState {
    this.assertOpen();
    const topic = this.topicOf(tp);
    checkNonNegativeInteger('fromOffset', fromOffset);
    checkNonNegativeInteger('maxRecords', maxRecords);
    return topic;
  }

  /** Validates `commit` and adds its group offset entries. */
  private groupOffsetEntries(commit: GroupOffsets, keys: Buffer[], values: Buffer[]): void {
    checkGroup(commit.group);
    for (const offset of commit.offsets) {
      const topic = this.topicOf(offset);
      checkNonNegativeInteger('offset', offset.offset);
      keys.push(groupOffsetKey(commit.group, topic.id, offset.partition));
      values.push(encodeUint64(offset.offset));
    }
  }

  /** Queues record batches, the touched partitions' new watermarks and group offsets as one write. */
  private enqueueAppend(
    keys: Buffer[],
    values: Buffer[],
    appends: readonly PartitionAppend[],
    offsetKeys: readonly Buffer[],
    offsetValues: readonly Buffer[],
  ): Promise<void> {
    for (const append of appends) {
      keys.push(watermarkKey(append.topic.id, append.partition));
      values.push(encodeUint64(append.end));
    }
    keys.push(...offsetKeys);
    values.push(...offsetValues);
    return this.enqueue(NO_DELETES, keys, values, () => {
      for (const { topic, partition, end, records, batches, appended } of appends) {
        if (end > topic.high[partition]!) topic.high[partition] = end;
        if (topic.config.compact !== true) {
          let recent = this.recent.get(topic.id);
          if (recent === undefined) this.recent.set(topic.id, (recent = new RecentBatches(topic.partitions)));
          for (const batch of appended) recent.add(partition, batch);
        }
        if (batches > 0 && records > 0) {
          const estimate = topic.recordsPerBatch[partition]!;
          const observed = records / batches;
          topic.recordsPerBatch[partition] = estimate === 0 ? observed : (estimate * 3 + observed) / 4;
        }
        if (topic.config.compact === true) this.compactor.appended(topic, partition);
      }
    });
  }

  private enqueue(deletes: readonly Buffer[], keys: readonly Buffer[], values: readonly Buffer[], publish: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ deletes, keys, values, publish, resolve, reject });
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
          for (const key of write.deletes) batch.del(key);
          for (let i = 0; i < write.keys.length; i++) batch.put(write.keys[i]!, write.values[i]!);
        }
        try {
          await batch.write({ sync: this.sync });
        } catch (error) {
          // Writes queued behind a failed one reserved offsets after it: fail them too
          // and hand out offsets from the durable watermarks again. LevelDB batches are
          // atomic: nothing of the failed writes was applied.
          const failure = toWriteError(error, this.path);
          const failed = [...writes, ...this.queue];
          this.queue = [];
          for (const topic of this.topics.values()) {
            for (let p = 0; p < topic.partitions; p++) topic.reserved[p] = topic.high[p]!;
          }
          for (const write of failed) write.reject(failure);
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

/** Records of a stored read as `LogRecord`s, at most `maxRecords`, from `fromOffset`. */
export function decodeStored(read: StoredRead, topic: string, partition: number, fromOffset: number, maxRecords: number): LogRecord[] {
  const out: LogRecord[] = [];
  for (const { baseOffset, batch } of read.batches) {
    if (out.length >= maxRecords) break;
    forEachRecord(batch, baseOffset, fromOffset, (r) => {
      if (out.length < maxRecords) {
        out.push({ topic, partition, offset: r.offset, key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp });
      }
    });
  }
  return out;
}

/**
 * A stored read as one batch set: one copy per stored batch. Consumes `read`: each stored
 * batch is LevelDB's copy in a buffer of its own, freed once copied (docs/data-plane.md
 * rule 13).
 */
export function encodeStored(read: StoredRead, fromOffset: number): EncodedRecords {
  const buffer = buildBatchSet(fromOffset, read.batches, read.toOffset);
  for (const { batch } of read.batches) releaseWholeView(batch);
  return {
    buffer,
    count: read.count,
    lastOffset: read.lastOffset,
    nextOffset: read.nextOffset,
  };
}

/** Offsets an appended batch takes (0 for an empty batch), after checking its header. */
function batchSpan(batch: Uint8Array, topic: string, partition: number): number {
  let info;
  try {
    info = batchInfo(batch);
  } catch (error) {
    throw new InvalidRecordBatchError(topic, partition, error instanceof Error ? error.message : String(error));
  }
  if (info.count === 0) return 0;
  if (info.dense ? info.lastOffsetDelta !== info.count - 1 : info.lastOffsetDelta < info.count - 1) {
    throw new InvalidRecordBatchError(
      topic,
      partition,
      `${info.count} record(s) cannot end at offset delta ${info.lastOffsetDelta}${info.dense ? ' in a dense batch' : ''}`,
    );
  }
  return info.lastOffsetDelta + 1;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A failed LevelDB write as a `LogWriteError` (disk full named as such). */
function toWriteError(error: unknown, path: string): LogWriteError {
  const messages: string[] = [];
  let diskFull = false;
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    const candidate = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (candidate.code === 'ENOSPC') diskFull = true;
    if (typeof candidate.message === 'string') {
      messages.push(candidate.message);
      if (/no space left|ENOSPC|disk full/i.test(candidate.message)) diskFull = true;
    }
    current = candidate.cause;
  }
  return new LogWriteError(path, diskFull, messages.length > 0 ? messages.join(': ') : String(error), { cause: error });
}

function checkPartition(topic: TopicState, partition: number): void {
  if (!Number.isInteger(partition) || partition < 0 || partition >= topic.partitions) {
    throw new PartitionOutOfRangeError(topic.name, partition, topic.partitions);
  }
}

