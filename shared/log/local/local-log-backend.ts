/**
 * The embedded, durable, single-process log backend (`kind: 'local'`), the default
 * when no Kafka cluster is configured. Everything lives in one LevelDB database
 * (classic-level) in the log directory; see `key-layout.ts` for the layout and
 * `local-log-store.ts` for how writes are ordered and batched.
 *
 * Durability: an append resolves only after its LevelDB batch was written, which
 * puts it in LevelDB's write-ahead log in the OS page cache. That survives the
 * process being killed at any moment (`kill -9` included: the kernel still writes
 * the page cache out), which is what the runtime's recovery relies on and what the
 * kill -9 test checks. Surviving a machine crash or power loss additionally needs
 * an fsync per batch: pass `{ sync: true }`. It is off by default because it costs
 * about half the append throughput even with 1,000-record batches (bench/log.bench.ts
 * on this 2-core machine: ~180 k vs ~85 k records/s) and ~0.3 ms per small append.
 * After a machine crash LevelDB recovers a prefix of the acknowledged writes, and
 * since records, watermarks and group offsets of one write share one batch, the
 * log and its committed offsets stay consistent with each other.
 *
 * Partitioning: a record without a partition goes to Kafka's default partition
 * for its key (murmur2, see `murmur2-partitioner.ts`); records with neither key nor
 * partition rotate over the topic's partitions. Retention and compaction are not
 * implemented: the low watermark is always 0 and `compact` is only recorded.
 */
import type {
  GroupConsumer,
  LogBackend,
  LogProducer,
  PartitionReader,
  TopicConfig,
  TopicDescription,
  TopicPartition,
  Watermarks,
} from '../log-backend.js';
import { partitionForKey } from '../murmur2-partitioner.js';
import { LocalGroupConsumer } from './local-group-consumer.js';
import { LocalLogStore, type TopicState } from './local-log-store.js';
import { LocalPartitionReader } from './local-partition-reader.js';
import { LocalProducer } from './local-producer.js';
import { checkGroup, checkPartitionCount } from './validate-arguments.js';

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
}

export class LocalLogBackend implements LogBackend {
  readonly kind = 'local' as const;
  /** Rotation for `partitionFor(null, n)`. */
  private nextNullKeyPartition = 0;

  private constructor(private readonly store: LocalLogStore) {}

  /**
   * Opens (creating if needed) the log in directory `dir`.
   * @throws LogLockedError when another process holds the directory.
   * @throws LogFormatError when the directory holds an unknown format.
   */
  static async open(dir: string, options: LocalLogOptions = {}): Promise<LocalLogBackend> {
    const store = await LocalLogStore.open(dir, {
      sync: options.sync ?? false,
      lockRetry: { retries: options.lockRetries ?? 5, delayMs: options.lockRetryDelayMs ?? 100 },
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

  async consumer(group: string): Promise<GroupConsumer> {
    this.store.assertOpen();
    checkGroup(group);
    return new LocalGroupConsumer(this.store, group);
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

  /** Waits for pending writes, then closes the database. Idempotent. */
  async close(): Promise<void> {
    await this.store.close();
  }
}

function describe(topic: TopicState): TopicDescription {
  return { name: topic.name, partitions: topic.partitions, config: { ...topic.config } };
}
