/**
 * The one small interface between the runtime and a partitioned log.
 *
 * Two backends implement it: `local` (embedded, durable, one process; see `local/`)
 * and `kafka` (@confluentinc/kafka-javascript). The runtime never knows which it has.
 * Every backend must pass the shared conformance suite in `test/log/conformance.ts`.
 */

/** One record header. Kafka allows repeated keys, so headers are a list. */
export interface RecordHeader {
  readonly key: string;
  readonly value: Uint8Array | null;
}

/** A record to append. `partition` omitted ⇒ chosen by the default partitioner. */
export interface AppendRecord {
  readonly topic: string;
  readonly partition?: number;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers?: readonly RecordHeader[];
  /** Milliseconds since the epoch; omitted ⇒ the append time. */
  readonly timestamp?: number;
}

/** A record read back from the log. */
export interface LogRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: readonly RecordHeader[];
  readonly timestamp: number;
}

/**
 * Most partitions a topic may have: bounds config's `partitions`, `WEIR_PARTITIONS`, `weir
 * produce --partitions` and the local log's topic metadata. Per-partition bookkeeping
 * (watermarks, offsets, state directories) is allocated up front, so a count like 2^31
 * exhausts memory instead of failing; 10,000 is far above any useful count on one machine.
 */
export const MAX_TOPIC_PARTITIONS = 10_000;

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** Where an appended record landed. */
export interface AppendResult extends TopicPartition {
  readonly offset: number;
}

/** A consumer-group offset: the next offset to read (last processed + 1). */
export interface PartitionOffset extends TopicPartition {
  readonly offset: number;
}

/** Low watermark = first readable offset; high watermark = next offset to be written. */
export interface Watermarks {
  readonly low: number;
  readonly high: number;
}

export interface TopicDescription {
  readonly name: string;
  readonly partitions: number;
  readonly config: TopicConfig;
}

export interface TopicConfig {
  /** `cleanup.policy=compact` (changelogs). */
  readonly compact?: boolean;
}

/** Notifications a group member receives when partitions move. */
export interface RebalanceListener {
  /** Called before the member receives records of `partitions`. */
  onAssign(partitions: readonly TopicPartition[]): Promise<void>;
  /** Called before `partitions` are taken away; the member should checkpoint. */
  onRevoke(partitions: readonly TopicPartition[]): Promise<void>;
  /** Partitions were taken away without a chance to commit (session lost). */
  onLost?(partitions: readonly TopicPartition[]): Promise<void>;
}

/** A consumer-group member reading the input topics. */
export interface GroupConsumer {
  /** Join the group for `topics`; assignments arrive through `listener`. */
  subscribe(topics: readonly string[], listener: RebalanceListener): Promise<void>;
  /** Up to `maxRecords` records from the assigned, unpaused partitions; waits up to `timeoutMs` for the first. */
  poll(maxRecords: number, timeoutMs: number): Promise<LogRecord[]>;
  /**
   * The data plane's poll: like {@link poll}, but the records come as one batch set per
   * partition (shared/protocol/record-batch.ts), never as record objects: stored batches
   * whole, the last one bounded by the set's end offset, so at most `maxRecords` in all.
   */
  pollBatches(maxRecords: number, timeoutMs: number): Promise<PartitionBatchSet[]>;
  /** Currently assigned partitions. */
  assignment(): readonly TopicPartition[];
  pause(partitions: readonly TopicPartition[]): void;
  resume(partitions: readonly TopicPartition[]): void;
  /** Next offset `poll` will return for the partition. */
  seek(partition: TopicPartition, offset: number): void;
  /** Committed group offsets; `undefined` where the group never committed. */
  committed(partitions: readonly TopicPartition[]): Promise<Map<string, number | undefined>>;
  /** Commit group offsets (at-least-once path). */
  commit(offsets: readonly PartitionOffset[]): Promise<void>;
  close(): Promise<void>;
}

/** What {@link PartitionReader.readEncoded} returns. */
export interface EncodedRecords {
  /** The records as one batch set (shared/protocol/record-batch.ts), ready for a transfer list. */
  readonly buffer: ArrayBuffer;
  readonly count: number;
  /** Offset of the last record (meaningless when `count` is 0). */
  readonly lastOffset: number;
  /**
   * Where reading goes on: after the last record, or further when the read reached the
   * end of what is readable past offsets that hold no record (transaction markers,
   * aborted or compacted records). Below the end asked for with `count` 0: nothing was
   * readable yet. Absent: `lastOffset + 1`, or the start of the read when `count` is 0.
   */
  readonly nextOffset?: number;
}

/** Reads partitions directly, outside any group (recovery reads changelogs this way). */
export interface PartitionReader {
  /** Records of one partition starting at `fromOffset`, at most `maxRecords`, in offset order. */
  read(partition: TopicPartition, fromOffset: number, maxRecords: number): Promise<LogRecord[]>;
  /**
   * The same records as `read` as one batch set for the worker threads, without building
   * a record object each (recovery's path: the coordinator only moves bytes).
   */
  readEncoded(partition: TopicPartition, fromOffset: number, maxRecords: number): Promise<EncodedRecords>;
  close(): Promise<void>;
}

/** Appends records; optionally atomically with group offsets (exactly-once). */
export interface LogProducer {
  /** Append and wait until every record is durable; results are in input order. */
  append(records: readonly AppendRecord[]): Promise<AppendResult[]>;
  /**
   * Exactly-once: append `records` and commit `offsets` for `group` as one atomic unit.
   * Either everything becomes visible or nothing does.
   */
  appendAndCommit(
    records: readonly AppendRecord[],
    group: string,
    offsets: readonly PartitionOffset[],
  ): Promise<AppendResult[]>;
  /**
   * Append encoded record batches (each to the topic-partition it names) and wait until
   * every record is durable. The log assigns each batch its base offset; results are in
   * input order. This is how the runtime appends: it never decodes a worker's batches.
   * Once it resolved, the producer keeps no use of the batches' bytes: the caller may
   * free them (docs/data-plane.md rule 13).
   */
  appendBatches(batches: readonly AppendBatch[]): Promise<AppendBatchResult[]>;
  /** Exactly-once: {@link appendBatches} and commit `offsets` for `group` as one atomic unit. */
  appendBatchesAndCommit(
    batches: readonly AppendBatch[],
    group: string,
    offsets: readonly PartitionOffset[],
  ): Promise<AppendBatchResult[]>;
  close(): Promise<void>;
}

/** Records of one partition as a batch set (shared/protocol/record-batch.ts). */
export interface PartitionBatchSet extends TopicPartition, EncodedRecords {}

/** An encoded record batch to append to one topic-partition. */
export interface AppendBatch extends TopicPartition {
  /** A record batch (shared/protocol/record-batch.ts); its offset deltas count from the base the log assigns. */
  readonly batch: Uint8Array;
}

/** Where an appended batch landed: its first and last offsets. */
export interface AppendBatchResult extends TopicPartition {
  readonly baseOffset: number;
  readonly lastOffset: number;
}

/** Options of a group member. */
export interface ConsumerOptions {
  /** Where a partition the group never committed starts: its first record (default) or its end. */
  readonly autoOffsetReset?: 'earliest' | 'latest';
}

/** A log backend: topics with partitions, producers, consumers, readers. */
export interface LogBackend {
  readonly kind: 'local' | 'kafka';
  /** Create a topic; an existing topic with the same partition count is left alone. */
  createTopic(name: string, partitions: number, config?: TopicConfig): Promise<void>;
  /** `undefined` when the topic does not exist. */
  describeTopic(name: string): Promise<TopicDescription | undefined>;
  listTopics(): Promise<TopicDescription[]>;
  watermarks(partition: TopicPartition): Promise<Watermarks>;
  /** Committed offsets of `group`, read without joining it. */
  committedOffsets(group: string, partitions: readonly TopicPartition[]): Promise<Map<string, number | undefined>>;
  producer(): Promise<LogProducer>;
  consumer(group: string, options?: ConsumerOptions): Promise<GroupConsumer>;
  reader(): Promise<PartitionReader>;
  /** Partition a keyed record lands on when none is given (Kafka's murmur2 default partitioner). */
  partitionFor(key: Uint8Array | null, partitions: number): number;
  /**
   * The member of `group` that `partition` is assigned to, where the backend can tell
   * (Kafka: the group's description from the coordinator); `undefined` when no member has
   * it (a rebalance, an empty group) or the backend has no members to name (the local
   * log: one process owns every partition). Optional: a backend without it names none.
   */
  partitionOwner?(group: string, partition: TopicPartition): Promise<GroupMember | undefined>;
  close(): Promise<void>;
}

/** A member of a consumer group, as the backend describes it. */
export interface GroupMember {
  /** The coordinator's member id. */
  readonly memberId: string;
  /** The member's `client.id`. */
  readonly clientId: string;
  /** The member's host as the coordinator saw it (e.g. `/10.0.0.7`). */
  readonly host: string;
}

/** Map key for a topic-partition, used by `committed`/`committedOffsets` results. */
export function tpKey(tp: TopicPartition): string {
  return `${tp.topic}[${tp.partition}]`;
}
