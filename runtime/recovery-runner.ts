/**
 * Coordinator side of StateRecovery: decides per store partition whether the changelog
 * must be replayed (spec §5.2), reads the changelog in large chunks and hands each chunk
 * to the owning worker, which applies it in one database batch with the skip rule of §5.4.
 *
 * Completion never depends on "position == high watermark" alone (§5.6): replay stops at
 * the high watermark snapshot or as soon as a read returns nothing, so trailing
 * transaction markers or compaction gaps cannot make it hang.
 */
import type { EncodedRecords, LogBackend, PartitionReader, TopicPartition } from '../shared/log/log-backend.js';
import { transfer } from 'comlink';
import type { StorePartitionInfo, WorkerControl } from '../shared/protocol/worker-protocol.js';
import { encodeRecordBatch } from '../shared/protocol/record-batch-codec.js';
import { InvalidStoreChangelogOffsetError } from '../shared/errors/runtime-errors.js';

/** Progress of one store partition's recovery, reported after every applied chunk. */
export interface RecoveryProgress {
  readonly store: string;
  readonly partition: number;
  readonly changelogTopic: string;
  /** Changelog records read so far in this recovery. */
  readonly recovered: number;
  /** Records between the start offset and the high watermark snapshot. */
  readonly total: number;
  readonly done: boolean;
}

/** Committed offset value meaning "the group never committed" (librdkafka's OFFSET_INVALID). */
export const NO_COMMITTED_OFFSET = -1001;

/** What the recovery decision of spec §5.2 says for one store partition. */
export type RecoveryDecision =
  | { readonly kind: 'up-to-date' }
  | { readonly kind: 'replay'; readonly from: number; readonly to: number };

/**
 * Spec §5.2: replay when the changelog is non-empty and holds a record after the stored
 * offset; an offset at or beyond a non-empty changelog's end is an error.
 */
export function decideRecovery(
  store: string,
  partition: number,
  stored: number | undefined,
  low: number,
  high: number,
): RecoveryDecision {
  const o = stored ?? -2;
  if (low !== high && high - 1 > o) {
    return { kind: 'replay', from: stored === undefined ? low : Math.max(stored + 1, low), to: high };
  }
  if (high !== 0 && stored !== undefined && high <= stored) {
    throw new InvalidStoreChangelogOffsetError(store, partition, stored, high);
  }
  return { kind: 'up-to-date' };
}

export interface RecoveryRunnerOptions {
  readonly chunkSize?: number;
  readonly onProgress?: (progress: RecoveryProgress) => void;
}

export class RecoveryRunner {
  private readonly chunkSize: number;

  constructor(
    private readonly backend: LogBackend,
    private readonly reader: PartitionReader,
    private readonly options: RecoveryRunnerOptions = {},
  ) {
    this.chunkSize = options.chunkSize ?? 20_000;
  }

  /** One chunk, encoded for the worker: the reader's fast path when it has one. */
  private async readChunk(tp: TopicPartition, from: number, max: number): Promise<EncodedRecords> {
    if (this.reader.readEncoded !== undefined) return this.reader.readEncoded(tp, from, max);
    const records = await this.reader.read(tp, from, max);
    return { buffer: encodeRecordBatch(records), count: records.length, lastOffset: records[records.length - 1]?.offset ?? -1 };
  }

  /**
   * Recover every store of `partition` on its worker. `committed` maps source topic →
   * committed offset (NO_COMMITTED_OFFSET when none). Returns the number of records replayed.
   */
  async recoverPartition(
    worker: WorkerControl,
    partition: number,
    stores: readonly StorePartitionInfo[],
    changelogTopics: Readonly<Record<string, string>>,
    committed: Readonly<Record<string, number>>,
    signal?: AbortSignal,
  ): Promise<number> {
    let replayed = 0;
    for (const info of stores) {
      const topic = changelogTopics[info.store];
      if (topic === undefined) continue;
      const { low, high } = await this.backend.watermarks({ topic, partition });
      const decision = decideRecovery(info.store, partition, info.changelogOffset, low, high);
      if (decision.kind === 'up-to-date') continue;
      const total = decision.to - decision.from;
      let next = decision.from;
      let recovered = 0;
      const read = (from: number): Promise<EncodedRecords> => {
        const chunk = this.readChunk({ topic, partition }, from, Math.min(this.chunkSize, decision.to - from));
        chunk.catch(() => undefined); // awaited below; a failure after an apply error must not go unhandled
        return chunk;
      };
      // The next chunk is read while the worker applies the current one.
      let pending = read(next);
      while (signal?.aborted !== true) {
        const chunk = await pending;
        if (chunk.count === 0) break;
        next = chunk.lastOffset + 1;
        pending = next < decision.to ? read(next) : Promise.resolve({ buffer: new ArrayBuffer(0), count: 0, lastOffset: -1 });
        await worker.recover(partition, info.store, transfer(chunk.buffer, [chunk.buffer]), committed);
        recovered += chunk.count;
        this.options.onProgress?.({ store: info.store, partition, changelogTopic: topic, recovered, total, done: false });
      }
      await pending.catch(() => undefined);
      replayed += recovered;
      this.options.onProgress?.({ store: info.store, partition, changelogTopic: topic, recovered, total, done: true });
    }
    return replayed;
  }
}
