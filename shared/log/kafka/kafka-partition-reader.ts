/**
 * `PartitionReader` on a KafkaConsumer outside any group: manual `assign` at an offset,
 * `isolation.level=read_committed` (recovery must not see aborted changelog records;
 * note the mock cluster ignores this). A read stops at `maxRecords`, at the end of the
 * partition (an end-of-partition event, or the high watermark seen when the read
 * started), or fails after `readTimeoutMs` without reaching either.
 * Sequential reads (`fromOffset` = where the last one stopped) keep fetching without
 * re-assigning.
 */
import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { KafkaTimeoutError } from '../../errors/kafka-errors.js';
import { LogClosedError } from '../../errors/log-errors.js';
import { tpKey, type EncodedRecords, type LogRecord, type PartitionReader, type TopicPartition } from '../log-backend.js';
import { toEncodedRecords } from '../../protocol/record-batch.js';
import { readerConfig } from './client-config.js';
import type { KafkaContext } from './kafka-context.js';
import { callback, connect, disconnect, RdKafka, type KafkaConsumer, type Message, type WatermarkOffsets } from './rdkafka.js';
import { toLogRecord } from './record-conversion.js';
import type { TopicMetadata } from './topic-metadata.js';

/** How long one consume call waits before the end conditions are checked again. */
const CONSUME_SLICE_MS = 100;

interface Position {
  readonly key: string;
  /** Next offset the consumer will deliver. */
  next: number;
  /** The consumer reported the end of the partition at `next`. */
  atEnd: boolean;
}

export class KafkaPartitionReader implements PartitionReader {
  private position: Position | undefined;
  private readonly eofOffsets = new Map<string, number>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly context: KafkaContext,
    private readonly topics: TopicMetadata,
    private readonly consumer: KafkaConsumer,
    private readonly readTimeoutMs: number,
  ) {
    (consumer as EventEmitter).on('partition.eof', (eof: { topic: string; partition: number; offset: number }) => {
      this.eofOffsets.set(tpKey(eof), eof.offset);
    });
  }

  static async open(context: KafkaContext, topics: TopicMetadata, readTimeoutMs: number): Promise<KafkaPartitionReader> {
    let consumer: KafkaConsumer;
    try {
      consumer = new RdKafka.KafkaConsumer(readerConfig(context.config, `weir-reader-${randomUUID()}`));
    } catch (error) {
      throw context.error('create partition reader', error);
    }
    context.attachLogging(consumer, 'reader');
    try {
      await connect(consumer, context.requestTimeoutMs);
    } catch (error) {
      throw context.error(`connect partition reader to ${context.config.bootstrapServers}`, error);
    }
    (consumer as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(value: boolean): void }).setDefaultIsTimeoutOnlyForFirstMessage(true);
    consumer.setDefaultConsumeTimeout(CONSUME_SLICE_MS);
    return new KafkaPartitionReader(context, topics, consumer, readTimeoutMs);
  }

  async read(partition: TopicPartition, fromOffset: number, maxRecords: number): Promise<LogRecord[]> {
    return (await this.enqueue(partition, fromOffset, maxRecords)).records;
  }

  /**
   * The records encoded for the worker threads, with `nextOffset`: past the transaction
   * markers when the read reached the end of the partition, so recovery does not read
   * again only to find a marker.
   */
  async readEncoded(partition: TopicPartition, fromOffset: number, maxRecords: number): Promise<EncodedRecords> {
    const { records, nextOffset } = await this.enqueue(partition, fromOffset, maxRecords);
    return toEncodedRecords(records, fromOffset, nextOffset);
  }

  private enqueue(partition: TopicPartition, fromOffset: number, maxRecords: number): Promise<{ records: LogRecord[]; nextOffset: number }> {
    if (this.closed) return Promise.reject(new LogClosedError('kafka partition reader'));
    const run = this.queue.then(() => this.readOnce(partition, fromOffset, maxRecords));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async readOnce(tp: TopicPartition, fromOffset: number, maxRecords: number): Promise<{ records: LogRecord[]; nextOffset: number }> {
    await this.topics.requirePartition(tp);
    const key = tpKey(tp);
    const marks = await this.watermarks(tp);
    if (maxRecords <= 0 || fromOffset >= marks.highOffset) return { records: [], nextOffset: fromOffset };
    const continuing = this.position?.key === key && this.position.next === fromOffset && !this.position.atEnd;
    if (!continuing) {
      this.eofOffsets.delete(key);
      try {
        this.consumer.assign([{ topic: tp.topic, partition: tp.partition, offset: Math.max(fromOffset, marks.lowOffset) }]);
      } catch (error) {
        throw this.context.error(`assign ${key} to the partition reader`, error);
      }
      this.position = { key, next: fromOffset, atEnd: false };
    }
    const position = this.position!;
    const records: LogRecord[] = [];
    const deadline = Date.now() + this.readTimeoutMs;
    while (records.length < maxRecords) {
      let messages: Message[];
      try {
        messages = await callback<Message[]>((cb) => this.consumer.consume(maxRecords - records.length, cb));
      } catch (error) {
        throw this.context.error(`read ${key} from offset ${fromOffset}`, error);
      }
      for (const message of messages) {
        if (message.offset < fromOffset) continue;
        records.push(toLogRecord(message));
        position.next = message.offset + 1;
      }
      const eof = this.eofOffsets.get(key);
      if (eof !== undefined && eof >= position.next) {
        this.eofOffsets.delete(key);
        position.next = eof;
        position.atEnd = true;
        break;
      }
      if (position.next >= marks.highOffset) break;
      if (messages.length === 0 && Date.now() > deadline) {
        throw new KafkaTimeoutError(`read of ${key} from offset ${fromOffset}`, this.readTimeoutMs);
      }
    }
    return { records, nextOffset: position.next };
  }

  private async watermarks(tp: TopicPartition): Promise<WatermarkOffsets> {
    try {
      return await callback<WatermarkOffsets>((cb) =>
        this.consumer.queryWatermarkOffsets(tp.topic, tp.partition, this.context.requestTimeoutMs, cb),
      );
    } catch (error) {
      throw this.context.error(`query watermarks of ${tpKey(tp)}`, error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await disconnect(this.consumer);
  }
}
