/**
 * `LogProducer` on librdkafka: an idempotent producer for `append`, and a transactional
 * producer (created on first use) for `appendAndCommit`. Both wait for every delivery
 * report, so a resolved append means every record is acknowledged by the cluster.
 */
import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { KafkaTransactionAbortedError } from '../../errors/kafka-errors.js';
import { LogClosedError, PartitionOutOfRangeError } from '../../errors/log-errors.js';
import type { AppendBatch, AppendBatchResult, AppendRecord, AppendResult, LogProducer, PartitionOffset } from '../log-backend.js';
import { appendRecordsOf } from '../../protocol/record-batch.js';
import { idempotentProducerConfig, transactionalProducerConfig } from './client-config.js';
import type { KafkaContext } from './kafka-context.js';
import {
  callback,
  connect,
  disconnect,
  ErrorCode,
  isLibrdKafkaError,
  RdKafka,
  type KafkaConsumer,
  type LibrdKafkaError,
  type Producer,
} from './rdkafka.js';
import { toBuffer, toKafkaHeaders } from './record-conversion.js';
import type { TopicMetadata } from './topic-metadata.js';

/** Gives the consumer whose group metadata goes with offsets sent to a transaction. */
export type GroupMetadataSource = (group: string) => Promise<KafkaConsumer>;

/** One outstanding `produceAll`: results fill in as delivery reports arrive. */
interface PendingBatch {
  readonly results: (AppendResult | undefined)[];
  remaining: number;
  error: LibrdKafkaError | undefined;
  readonly done: () => void;
}

interface DeliveryTag {
  readonly batch: PendingBatch;
  readonly index: number;
}

interface DeliveryReport {
  topic: string;
  partition: number;
  offset: number;
  opaque?: unknown;
}

const COMMIT_ATTEMPTS = 3;

export class KafkaLogProducer implements LogProducer {
  private transactional: Producer | undefined;
  private transactionQueue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly context: KafkaContext,
    private readonly topics: TopicMetadata,
    private readonly idempotent: Producer,
    private readonly groupMetadata: GroupMetadataSource,
    private readonly transactionalId: string,
  ) {}

  static async open(
    context: KafkaContext,
    topics: TopicMetadata,
    groupMetadata: GroupMetadataSource,
    transactionalId: string | undefined,
  ): Promise<KafkaLogProducer> {
    const producer = await startProducer(context, idempotentProducerConfig(context.config), 'producer');
    return new KafkaLogProducer(context, topics, producer, groupMetadata, transactionalId ?? `weir-${randomUUID()}`);
  }

  async append(records: readonly AppendRecord[]): Promise<AppendResult[]> {
    this.assertOpen();
    await this.validate(records, []);
    return this.produceAll(this.idempotent, records);
  }

  async appendAndCommit(
    records: readonly AppendRecord[],
    group: string,
    offsets: readonly PartitionOffset[],
  ): Promise<AppendResult[]> {
    this.assertOpen();
    await this.validate(records, offsets);
    // One transaction at a time per producer: librdkafka allows no more.
    const run = this.transactionQueue.then(() => this.runTransaction(records, group, offsets));
    this.transactionQueue = run.catch(() => undefined);
    return run;
  }

  async appendBatches(batches: readonly AppendBatch[]): Promise<AppendBatchResult[]> {
    const records = recordsOfBatches(batches);
    return batchResults(batches, await this.append(records.flat()), records);
  }

  async appendBatchesAndCommit(
    batches: readonly AppendBatch[],
    group: string,
    offsets: readonly PartitionOffset[],
  ): Promise<AppendBatchResult[]> {
    const records = recordsOfBatches(batches);
    return batchResults(batches, await this.appendAndCommit(records.flat(), group, offsets), records);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.transactionQueue;
    await Promise.all([flushAndDisconnect(this.idempotent), this.transactional && flushAndDisconnect(this.transactional)]);
    this.transactional = undefined;
  }

  private assertOpen(): void {
    if (this.closed) throw new LogClosedError('kafka producer');
  }

  /** Typed errors for missing topics and bad partitions before anything is sent. */
  private async validate(records: readonly AppendRecord[], offsets: readonly PartitionOffset[]): Promise<void> {
    const counts = new Map<string, number>();
    for (const { topic } of [...records, ...offsets]) {
      if (!counts.has(topic)) counts.set(topic, await this.topics.requireTopic(topic));
    }
    for (const { topic, partition } of [...records, ...offsets]) {
      if (partition === undefined) continue;
      const count = counts.get(topic)!;
      if (!Number.isInteger(partition) || partition < 0 || partition >= count) {
        throw new PartitionOutOfRangeError(topic, partition, count);
      }
    }
  }

  private async runTransaction(
    records: readonly AppendRecord[],
    group: string,
    offsets: readonly PartitionOffset[],
  ): Promise<AppendResult[]> {
    const producer = await this.transactionalProducer();
    const timeout = this.context.requestTimeoutMs;
    try {
      await callback<void>((cb) => producer.beginTransaction(cb));
    } catch (error) {
      throw this.context.error('begin transaction', error);
    }
    try {
      const results = await this.produceAll(producer, records);
      if (offsets.length > 0) {
        const consumer = await this.groupMetadata(group);
        const toSend = offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset }));
        await callback<void>((cb) => producer.sendOffsetsToTransaction(toSend, consumer, timeout, cb));
      }
      await this.commit(producer);
      return results;
    } catch (error) {
      throw await this.abort(producer, group, error);
    }
  }

  private async commit(producer: Producer): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await callback<void>((cb) => producer.commitTransaction(this.context.requestTimeoutMs, cb));
        return;
      } catch (error) {
        const retriable = isLibrdKafkaError(error) && error.isRetriable === true && error.isTxnRequiresAbort !== true;
        if (!retriable || attempt >= COMMIT_ATTEMPTS) throw error;
        await sleep(1000);
      }
    }
  }

  /** Aborts the open transaction; a fatal error closes the producer so the next call starts a new one. */
  private async abort(producer: Producer, group: string, cause: unknown): Promise<Error> {
    const fatal = isLibrdKafkaError(cause) && cause.isFatal === true;
    const detail = this.context.redactor.redact(cause instanceof Error ? cause.message : String(cause));
    if (fatal) {
      this.transactional = undefined;
      await disconnect(producer);
    } else {
      try {
        await callback<void>((cb) => producer.abortTransaction(this.context.requestTimeoutMs, cb));
      } catch (abortError) {
        this.context.log('error', `abort of a failed transaction failed: ${String(abortError)}`);
        this.transactional = undefined;
        await disconnect(producer);
      }
    }
    return new KafkaTransactionAbortedError(group, detail, fatal);
  }

  private async transactionalProducer(): Promise<Producer> {
    if (this.transactional !== undefined) return this.transactional;
    const producer = await startProducer(
      this.context,
      transactionalProducerConfig(this.context.config, this.transactionalId),
      'transactional-producer',
    );
    try {
      await callback<void>((cb) => producer.initTransactions(this.context.requestTimeoutMs, cb));
    } catch (error) {
      await disconnect(producer);
      throw this.context.error(`init transactions (transactional.id "${this.transactionalId}")`, error);
    }
    this.transactional = producer;
    return producer;
  }

  /** Produces every record and resolves with their offsets, in input order, once all are acknowledged. */
  private produceAll(producer: Producer, records: readonly AppendRecord[]): Promise<AppendResult[]> {
    if (records.length === 0) return Promise.resolve([]);
    return new Promise<AppendResult[]>((resolve, reject) => {
      const batch: PendingBatch = {
        results: new Array<AppendResult | undefined>(records.length),
        remaining: records.length,
        error: undefined,
        done: () => {
          if (batch.error !== undefined) {
            reject(this.context.error(`produce to "${records[0]!.topic}"`, batch.error));
          } else {
            resolve(batch.results as AppendResult[]);
          }
        },
      };
      void this.produceEach(producer, records, batch).catch((error: unknown) => {
        // Records already handed to librdkafka still report; fail the batch for the rest.
        batch.error ??= isLibrdKafkaError(error) ? error : undefined;
        reject(this.context.error(`produce to "${records[0]!.topic}"`, error));
      });
    });
  }

  private async produceEach(producer: Producer, records: readonly AppendRecord[], batch: PendingBatch): Promise<void> {
    for (let index = 0; index < records.length; index++) {
      const record = records[index]!;
      const tag: DeliveryTag = { batch, index };
      const value = record.value === null ? null : toBuffer(record.value);
      const key = record.key === null ? null : toBuffer(record.key);
      for (;;) {
        try {
          producer.produce(record.topic, record.partition ?? -1, value, key, record.timestamp ?? null, tag, toKafkaHeaders(record.headers));
          break;
        } catch (error) {
          // librdkafka's queue is full: let delivery reports drain it, then retry.
          if (!isLibrdKafkaError(error) || error.code !== ErrorCode.QUEUE_FULL) throw error;
          await sleep(5);
        }
      }
    }
  }
}

/** Kafka takes messages, not batches: the records of each batch, to its topic-partition. */
function recordsOfBatches(batches: readonly AppendBatch[]): AppendRecord[][] {
  return batches.map((b) => appendRecordsOf(b.topic, b.partition, b.batch));
}

/** Per batch, the offsets of its first and last record (an empty batch: last = base − 1). */
function batchResults(batches: readonly AppendBatch[], results: readonly AppendResult[], records: readonly AppendRecord[][]): AppendBatchResult[] {
  let at = 0;
  return batches.map((b, i) => {
    const n = records[i]!.length;
    const first = results[at];
    const last = results[at + n - 1];
    at += n;
    return n === 0 || first === undefined || last === undefined
      ? { topic: b.topic, partition: b.partition, baseOffset: 0, lastOffset: -1 }
      : { topic: b.topic, partition: b.partition, baseOffset: first.offset, lastOffset: last.offset };
  });
}

function isDeliveryTag(value: unknown): value is DeliveryTag {
  return typeof value === 'object' && value !== null && 'batch' in value && 'index' in value;
}

function onDeliveryReport(error: LibrdKafkaError | undefined, report: DeliveryReport): void {
  const tag = report.opaque;
  if (!isDeliveryTag(tag)) return;
  const { batch, index } = tag;
  if (error) {
    batch.error ??= error;
  } else {
    batch.results[index] = { topic: report.topic, partition: report.partition, offset: report.offset };
  }
  if (--batch.remaining === 0) batch.done();
}

async function startProducer(context: KafkaContext, config: Record<string, string | number | boolean>, role: string): Promise<Producer> {
  let producer: Producer;
  try {
    producer = new RdKafka.Producer(config);
  } catch (error) {
    throw context.error(`create ${role}`, error);
  }
  context.attachLogging(producer, role);
  (producer as EventEmitter).on('delivery-report', onDeliveryReport);
  try {
    await connect(producer, context.requestTimeoutMs);
  } catch (error) {
    throw context.error(`connect ${role} to ${context.config.bootstrapServers}`, error);
  }
  // Delivery reports are served by a librdkafka background thread, not a JS timer.
  producer.setPollInBackground(true);
  return producer;
}

async function flushAndDisconnect(producer: Producer): Promise<void> {
  if (!producer.isConnected()) return;
  try {
    await callback<void>((cb) => producer.flush(10_000, cb));
  } catch {
    // Closing: undelivered records were already reported to their append calls.
  }
  await disconnect(producer);
}
