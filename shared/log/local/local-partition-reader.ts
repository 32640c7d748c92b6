/** `PartitionReader` of the local log: direct reads of any partition, outside any group. */
import type { EncodedRecords, LogRecord, PartitionReader, TopicPartition } from '../log-backend.js';
import { LogClosedError } from '../../errors/log-errors.js';
import type { LocalLogStore } from './local-log-store.js';

export class LocalPartitionReader implements PartitionReader {
  private closed = false;

  constructor(private readonly store: LocalLogStore) {}

  async read(partition: TopicPartition, fromOffset: number, maxRecords: number): Promise<LogRecord[]> {
    if (this.closed) throw new LogClosedError('local log partition reader');
    return this.store.read(partition, fromOffset, maxRecords);
  }

  async readEncoded(partition: TopicPartition, fromOffset: number, maxRecords: number): Promise<EncodedRecords> {
    if (this.closed) throw new LogClosedError('local log partition reader');
    return this.store.readEncoded(partition, fromOffset, maxRecords);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
