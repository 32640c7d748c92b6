/**
 * The embedded, durable, single-process log backend (`kind: 'local'`), the default
 * when no Kafka cluster is configured. Everything lives in one LevelDB database
 * (classic-level) in the log directory; docs/local-log.md describes the design,
 * `key-layout.ts` the keys and `local-log-store.ts` how writes are ordered and batched.
 *
 * Storage (log format 2): records are stored as record batches
 * (shared/protocol/record-batch.ts), one LevelDB entry per appended batch per
 * partition, keyed by the batch's last then base offset, so reading from any offset is
 * one forward seek. `appendBatches` stores the caller's batch bytes unchanged, and
 * `readEncoded` / `pollBatches` copy stored batches into a batch set: the data plane
 * does work per batch, never per record. `append` encodes the records of each partition
 * into batches of up to 1,000 records (~1 MiB). Offsets stay per record. A log written
 * by an earlier weir (format 1, one entry per record) is refused with `LogFormatError`.
 *
 * Durability: an append resolves only after its LevelDB batch was written, which
 * puts it in LevelDB's write-ahead log in the OS page cache. That survives the
 * process being killed at any moment (`kill -9` included: the kernel still writes
 * the page cache out), which is what the runtime's recovery relies on and what the
 * kill -9 test checks. Surviving a machine crash or power loss additionally needs
 * an fsync per batch: pass `{ sync: true }` (it costs append throughput; see
 * BENCHMARKS.md and bench/log.bench.ts). After a machine crash LevelDB recovers a
 * prefix of the acknowledged writes, and since records, watermarks and group offsets
 * of one write share one batch, the log and its committed offsets stay consistent
 * with each other. A failed write (a full disk included) appended nothing:
 * `LogWriteError`.
 *
 * Partitioning: a record without a partition goes to Kafka's default partition
 * for its key (murmur2, see `murmur2-partitioner.ts`); records with neither key nor
 * partition rotate over the topic's partitions. A topic has at most
 * `MAX_PARTITIONS_PER_TOPIC` (10,000) partitions.
 *
 * Compaction: partitions of `compact` topics (changelogs) are compacted in the
 * background like Kafka's log cleaner (`log-compactor.ts`): the latest record per key
 * is kept, null-keyed records are dropped, tombstones are kept for `deleteRetentionMs`.
 * Offsets never change (compacted offsets become gaps) and the low watermark is
 * always 0: there is no time or size retention.
 */
import type {
  ConsumerOptions,
  GroupConsumer,
  GroupMember,
  LogBackend,
  LogProducer,
  PartitionReader,
  TopicConfig,
  TopicDescription,
  TopicPartition,
  Watermarks,
} from '../log-backend.js';
import { partitionForKey } from '../murmur2-partitioner.js';
import { InvalidLogArgumentError } from '../../errors/log-errors.js';
import { LocalGroupConsumer } from './local-group-consumer.js';
import { LocalLogStore } from './local-log-store.js';
import type { TopicState } from './stored-topics.js';
import { LocalPartitionReader } from './local-partition-reader.js';
import { LocalProducer } from './local-producer.js';
import {
  DEFAULT_BACKGROUND_SHARE,
  DEFAULT_BACKGROUND_DELAY_MS,
  MAX_KEYS_PER_PASS,
  DEFAULT_DELETE_RETENTION_MS,
  DEFAULT_MIN_DIRTY_RECORDS,
  type CompactionStats,
} from './log-compactor.js';
import { checkGroup, checkNonNegativeInteger, checkPartitionCount } from './validate-arguments.js';

export type { CompactionStats } from './log-compactor.js';
export { MAX_PARTITIONS_PER_TOPIC } from './validate-arguments.js';

/** Options of `LocalLogBackend.open`. */
export interface LocalLogOptions {
  /**
   * fsync every write before acknowledging it, so acknowledged records also survive
   * a machine crash. Default `false`: acknowledged records survive the process being
   * killed, not the machine losing power.
   */
  readonly sync?: boolean;
  /** Retries when the directory is locked by another process. Default 5. */
  readonly lockRetries?: number;
  /** Pause between those retries. Default 100 ms. */
  readonly lockRetryDelayMs?: number;
  /**
   * How long compaction keeps a tombstone (a null value) that is the latest record of
   * its key, counted from the record's timestamp: Kafka's `delete.retention.ms`. A
   * consumer that reads the changelog within this time sees the delete. Default 24 h.
   */
  readonly deleteRetentionMs?: number;
  /**
   * A compact partition is compacted in the background once more offsets than
   * `max(this, its live records)` were appended since its last pass. Default 10,000.
   */
  readonly compactionMinDirtyRecords?: number;
  /**
   * Part of the wall time (0 < share ≤ 1) background compaction may spend working; it
   * pauses between its bounded steps for the rest, so a burst of changelog appends (a
   * checkpoint) is not followed by every partition's pass at full speed on the thread
   * that appends and routes: Kafka throttles its log cleaner the same way
   * (`log.cleaner.io.max.bytes.per.second`). `compact()` is never throttled. Default 0.25.
   */
  readonly compactionBackgroundShare?: number;
  /**
   * Milliseconds background compaction waits, once a partition is due, before its passes
   * start, so a pass does not run in the same moment as the checkpoint whose changelog
   * made it due (Kafka's cleaner looks for work every `log.cleaner.backoff.ms`).
   * `compact()` does not wait. Default 2,000.
   */
  readonly compactionBackgroundDelayMs?: number;
  /**
   * Most keys one compaction pass maps (Kafka's `log.cleaner.dedupe.buffer.size`, counted in
   * keys). A partition storing at most this many records is compacted in one read, newest
   * first; a larger one maps its dirty part's keys first, over as many passes as that takes.
   * Default 1,000,000.
   */
  readonly compactionMaxKeysPerPass?: number;
}

export class LocalLogBackend implements LogBackend {
  readonly kind = 'local' as const;
  /** Rotation for `partitionFor(null, n)`. */
  private nextNullKeyPartition = 0;

  private constructor(private readonly store: LocalLogStore) {}

  /**
   * Opens (creating if needed) the log in directory `dir`.
   * @throws LogLockedError when another process holds the directory.
   * @throws LogFormatError when the directory holds another log format (one written by
   *   an earlier weir included) or damaged topic metadata.
   * @throws NotALogDirectoryError when `dir` is a non-empty directory holding no log.
   */
  static async open(dir: string, options: LocalLogOptions = {}): Promise<LocalLogBackend> {
    const deleteRetentionMs = options.deleteRetentionMs ?? DEFAULT_DELETE_RETENTION_MS;
    const compactionMinDirtyRecords = options.compactionMinDirtyRecords ?? DEFAULT_MIN_DIRTY_RECORDS;
    if (typeof deleteRetentionMs !== 'number' || !(deleteRetentionMs >= 0)) {
      throw new InvalidLogArgumentError('deleteRetentionMs', deleteRetentionMs, 'milliseconds ≥ 0 (Infinity keeps tombstones)');
    }
    checkNonNegativeInteger('compactionMinDirtyRecords', compactionMinDirtyRecords);
    const compactionBackgroundShare = options.compactionBackgroundShare ?? DEFAULT_BACKGROUND_SHARE;
    if (typeof compactionBackgroundShare !== 'number' || !(compactionBackgroundShare > 0 && compactionBackgroundShare <= 1)) {
      throw new InvalidLogArgumentError('compactionBackgroundShare', compactionBackgroundShare, 'a share of the time, > 0 and ≤ 1');
    }
    const compactionBackgroundDelayMs = options.compactionBackgroundDelayMs ?? DEFAULT_BACKGROUND_DELAY_MS;
    if (typeof compactionBackgroundDelayMs !== 'number' || !(compactionBackgroundDelayMs >= 0 && Number.isFinite(compactionBackgroundDelayMs))) {
      throw new InvalidLogArgumentError('compactionBackgroundDelayMs', compactionBackgroundDelayMs, 'milliseconds ≥ 0');
    }
    const compactionMaxKeysPerPass = options.compactionMaxKeysPerPass ?? MAX_KEYS_PER_PASS;
    if (!Number.isSafeInteger(compactionMaxKeysPerPass) || compactionMaxKeysPerPass < 1) {
      throw new InvalidLogArgumentError('compactionMaxKeysPerPass', compactionMaxKeysPerPass, 'an integer ≥ 1');
    }
    const store = await LocalLogStore.open(dir, {
      sync: options.sync ?? false,
      lockRetry: { retries: options.lockRetries ?? 5, delayMs: options.lockRetryDelayMs ?? 100 },
      deleteRetentionMs,
      compactionMinDirtyRecords,
      compactionBackgroundShare,
      compactionBackgroundDelayMs,
      compactionMaxKeysPerPass,
    });
    return new LocalLogBackend(store);
  }

  /** The log directory. */
  get path(): string {
    return this.store.path;
  }

  async createTopic(name: string, partitions: number, config?: TopicConfig): Promise<void> {
    await this.store.createTopic(name, partitions, config);
  }

  async describeTopic(name: string): Promise<TopicDescription | undefined> {
    this.store.assertOpen();
    return this.store.hasTopic(name) ? describe(this.store.topic(name)) : undefined;
  }

  async listTopics(): Promise<TopicDescription[]> {
    this.store.assertOpen();
    return this.store.listTopics().map(describe);
  }

  async watermarks(partition: TopicPartition): Promise<Watermarks> {
    this.store.assertOpen();
    const topic = this.store.topicOf(partition);
    return { low: 0, high: topic.high[partition.partition]! };
  }

  async committedOffsets(
    group: string,
    partitions: readonly TopicPartition[],
  ): Promise<Map<string, number | undefined>> {
    return this.store.committed(group, partitions);
  }

  async producer(): Promise<LogProducer> {
    this.store.assertOpen();
    return new LocalProducer(this.store);
  }

  async consumer(group: string, options: ConsumerOptions = {}): Promise<GroupConsumer> {
    this.store.assertOpen();
    checkGroup(group);
    return new LocalGroupConsumer(this.store, group, options.autoOffsetReset ?? 'earliest');
  }

  async reader(): Promise<PartitionReader> {
    this.store.assertOpen();
    return new LocalPartitionReader(this.store);
  }

  partitionFor(key: Uint8Array | null, partitions: number): number {
    checkPartitionCount(partitions);
    if (key !== null) return partitionForKey(key, partitions);
    const partition = this.nextNullKeyPartition % partitions;
    this.nextNullKeyPartition = (this.nextNullKeyPartition + 1) % 0x7fffffff;
    return partition;
  }

  /** Always `undefined`: the local log's one process owns every partition, there is no other member to name. */
  async partitionOwner(_group: string, _partition: TopicPartition): Promise<GroupMember | undefined> {
    return undefined;
  }

  /**
   * Compacts the `compact` topics (or only `topic`, which must be one) now, pass after
   * pass until every record appended before the call is compacted, and says what it
   * did. Appends, reads and consumers go on meanwhile. Background compaction does the
   * same on its own; this is for `weir topic compact`, tests and benchmarks.
   * @throws InvalidLogArgumentError when `topic` is not a compact topic.
   * @throws LogClosedError when the log is closed meanwhile.
   */
  async compact(topic?: string): Promise<CompactionStats> {
    return this.store.compact(topic);
  }

  /** Stops compaction between two of its steps, waits for pending writes, then closes the database. Idempotent. */
  async close(): Promise<void> {
    await this.store.close();
  }
}

function describe(topic: TopicState): TopicDescription {
  return { name: topic.name, partitions: topic.partitions, config: { ...topic.config } };
}
