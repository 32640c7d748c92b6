/**
 * Outputs of a worker, encoded as they are emitted: one record batch per destination
 * topic-partition, so the coordinator appends them without decoding a record.
 *
 * The worker picks the partition, as a Kafka producer would: keyed records by Kafka's
 * murmur2 default partitioner, unkeyed records by a sticky partitioner (all go to one
 * randomly chosen partition until that partition's batch is handed over or holds
 * {@link STICKY_BATCH_RECORDS} records, then another is chosen), so unkeyed outputs spread
 * over every partition instead of landing on partition 0.
 */
import type { RecordHeader } from '../shared/log/log-backend.js';
import { partitionForKey } from '../shared/log/murmur2-partitioner.js';
import { RecordBatchBuilder, type BuilderMark } from '../shared/protocol/record-batch.js';
import type { EncodedBatch } from '../shared/protocol/worker-protocol.js';
import { UnknownOutputTopicError } from '../shared/errors/runtime-errors.js';

/** Unkeyed records a sticky partition takes before the next one is chosen. */
export const STICKY_BATCH_RECORDS = 1000;

/** A destination's builder starts this large and is kept between drains up to {@link KEPT_BUILDER_BYTES}. */
const BUILDER_INITIAL_BYTES = 16 * 1024;
/** A builder grown past this (a large held batch) is dropped at drain rather than kept. */
const KEPT_BUILDER_BYTES = 256 * 1024;

interface TopicOutputs {
  readonly partitions: number;
  readonly builders: (RecordBatchBuilder | undefined)[];
  /** Partition of unkeyed records; −1 ⇒ choose one at the next unkeyed record. */
  sticky: number;
}

export class OutputBatches {
  private readonly topics = new Map<string, TopicOutputs>();
  private pendingBytes = 0;
  private pendingRecords = 0;
  /** Builders changed since the savepoint with their positions then; `undefined` when none is set. */
  private journal: Map<RecordBatchBuilder, BuilderMark> | undefined;
  private savedBytes = 0;
  private savedRecords = 0;

  /** `partitionsOf`: partition count of every topic records may be added to. */
  constructor(private readonly partitionsOf: Readonly<Record<string, number>>) {}

  /** Encoded bytes waiting to be drained. */
  get byteLength(): number {
    return this.pendingBytes;
  }

  /** Records waiting to be drained. */
  get count(): number {
    return this.pendingRecords;
  }

  /** Adds a record; a string value is written as its UTF-8. */
  add(topic: string, key: Uint8Array | null, value: Uint8Array | string | null, headers: readonly RecordHeader[], timestamp: number): void {
    const outputs = this.topicOutputs(topic);
    let partition: number;
    if (key !== null) {
      partition = partitionForKey(key, outputs.partitions);
    } else {
      if (outputs.sticky < 0) outputs.sticky = Math.floor(Math.random() * outputs.partitions);
      partition = outputs.sticky;
    }
    let builder = outputs.builders[partition];
    if (builder === undefined) outputs.builders[partition] = builder = new RecordBatchBuilder(BUILDER_INITIAL_BYTES);
    if (this.journal !== undefined && !this.journal.has(builder)) this.journal.set(builder, builder.mark());
    const before = builder.byteLength;
    builder.add(timestamp, key, value, headers);
    this.pendingBytes += builder.byteLength - before;
    this.pendingRecords++;
    if (key === null && builder.count % STICKY_BATCH_RECORDS === 0) outputs.sticky = -1;
  }

  /** Remember what is pending, so {@link rollbackToSavepoint} can drop what a failed record emitted. */
  setSavepoint(): void {
    this.journal = new Map();
    this.savedBytes = this.pendingBytes;
    this.savedRecords = this.pendingRecords;
  }

  releaseSavepoint(): void {
    this.journal = undefined;
  }

  /** Drop every record added since the savepoint. */
  rollbackToSavepoint(): void {
    if (this.journal === undefined) return;
    for (const [builder, mark] of this.journal) builder.truncate(mark);
    this.journal = undefined;
    this.pendingBytes = this.savedBytes;
    this.pendingRecords = this.savedRecords;
  }

  /**
   * Every pending batch, each in an ArrayBuffer of its own; empties the buffer. The
   * builders are kept for the next records (at-least-once drains after every message of
   * batch sets, a few records per destination), unless one grew large.
   */
  drain(): EncodedBatch[] {
    if (this.pendingRecords === 0) return [];
    const batches: EncodedBatch[] = [];
    for (const [topic, outputs] of this.topics) {
      for (let partition = 0; partition < outputs.builders.length; partition++) {
        const builder = outputs.builders[partition];
        if (builder === undefined || builder.count === 0) continue;
        const count = builder.count;
        batches.push({ topic, partition, count, buffer: builder.takeTransferable() });
        if (builder.capacity > KEPT_BUILDER_BYTES) outputs.builders[partition] = undefined;
      }
      outputs.sticky = -1;
    }
    this.pendingBytes = 0;
    this.pendingRecords = 0;
    return batches;
  }

  /** Forget everything pending (a failed checkpoint). */
  clear(): void {
    for (const outputs of this.topics.values()) {
      outputs.builders.fill(undefined);
      outputs.sticky = -1;
    }
    this.pendingBytes = 0;
    this.pendingRecords = 0;
  }

  private topicOutputs(topic: string): TopicOutputs {
    let outputs = this.topics.get(topic);
    if (outputs === undefined) {
      const partitions = this.partitionsOf[topic];
      if (partitions === undefined) throw new UnknownOutputTopicError(topic, Object.keys(this.partitionsOf));
      outputs = { partitions, builders: new Array<RecordBatchBuilder | undefined>(partitions).fill(undefined), sticky: -1 };
      this.topics.set(topic, outputs);
    }
    return outputs;
  }
}
