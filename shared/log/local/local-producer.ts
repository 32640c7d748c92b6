/** `LogProducer` of the local log: every call is one atomic, durable write. */
import type {
  AppendBatch,
  AppendBatchResult,
  AppendRecord,
  AppendResult,
  LogProducer,
  PartitionOffset,
} from '../log-backend.js';
import { LogClosedError } from '../../errors/log-errors.js';
import type { LocalLogStore } from './local-log-store.js';

export class LocalProducer implements LogProducer {
  private closed = false;

  constructor(private readonly store: LocalLogStore) {}

  async append(records: readonly AppendRecord[]): Promise<AppendResult[]> {
    this.assertOpen();
    return this.store.write(records);
  }

  async appendAndCommit(
    records: readonly AppendRecord[],
    group: string,
    offsets: readonly PartitionOffset[],
  ): Promise<AppendResult[]> {
    this.assertOpen();
    return this.store.write(records, { group, offsets });
  }

  /** Stores each batch's bytes as they are, as one LevelDB entry (see LocalLogStore.appendBatches). */
  async appendBatches(batches: readonly AppendBatch[]): Promise<AppendBatchResult[]> {
    this.assertOpen();
    return this.store.appendBatches(batches);
  }

  async appendBatchesAndCommit(
    batches: readonly AppendBatch[],
    group: string,
    offsets: readonly PartitionOffset[],
  ): Promise<AppendBatchResult[]> {
    this.assertOpen();
    return this.store.appendBatches(batches, { group, offsets });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new LogClosedError('local log producer');
  }
}
