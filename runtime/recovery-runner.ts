/**
 * Coordinator side of StateRecovery: decides per store partition whether the changelog
 * must be replayed (docs/semantics.md §5.2), reads the changelog in large chunks and hands each chunk
 * to the owning worker, which applies it in one database batch with the skip rule of §5.4.
 *
 * Completion never depends on "position == high watermark" alone (§5.6): replay stops at
 * the high watermark snapshot, or where the reader reports it reached the end of what is
 * readable (past trailing transaction markers or compaction gaps), so it cannot hang. A
 * read that returns nothing while the reader has not reached that end (a broker that has
 * not served the data yet) is retried a few times before the end is accepted, so a slow
 * broker cannot make recovery stop short and lose state.
 */
import type { EncodedRecords, LogBackend, PartitionReader, TopicPartition } from '../shared/log/log-backend.js';
import { transfer } from 'comlink';
import type { StorePartitionInfo, WorkerControl } from '../shared/protocol/worker-protocol.js';
import { InvalidStoreChangelogOffsetError } from '../shared/errors/runtime-errors.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { weirLog } from '../shared/logging/weir-log.js';

/** Empty reads short of the end retried before the end is accepted, and the first pause between them. */
const EMPTY_READ_RETRIES = 5;
const EMPTY_READ_BACKOFF_MS = 100;

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

/** What the recovery decision of docs/semantics.md §5.2 says for one store partition. */
export type RecoveryDecision =
  | { readonly kind: 'up-to-date' }
  | { readonly kind: 'replay'; readonly from: number; readonly to: number };

/**
 * docs/semantics.md §5.2: replay when the changelog is non-empty and holds a record after the stored
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
  /** Pause before the first retry of an empty read short of the end (doubles each time). Default 100 ms. */
  readonly emptyReadBackoffMs?: number;
  /** Where a replay that ended short of the snapshot high watermark is reported; default stderr. */
  readonly onWarning?: (message: string) => void;
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

  /** One chunk as a batch set for the worker: the coordinator moves bytes only. */
  private readChunk(tp: TopicPartition, from: number, max: number): Promise<EncodedRecords> {
    return this.reader.readEncoded(tp, from, max);
  }

  /**
   * Recover every store of `partition` on its worker. `committed` maps source topic →
   * committed offset (NEVER_COMMITTED when none). Returns the number of records replayed.
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
      const nothing: EncodedRecords = { buffer: new ArrayBuffer(0), count: 0, lastOffset: -1, nextOffset: decision.to };
      // The next chunk is read while the worker applies the current one.
      let pending = read(next);
      let emptyReads = 0;
      while (signal?.aborted !== true) {
        const chunk = await pending;
        const end = chunk.nextOffset ?? (chunk.count > 0 ? chunk.lastOffset + 1 : next);
        if (chunk.count === 0) {
          if (end >= decision.to) break;
          if (emptyReads === EMPTY_READ_RETRIES) {
            this.warn(`recovery of ${topic}[${partition}] found nothing readable from offset ${next} to ${decision.to} (open or aborted transactions); taken as complete`);
            break;
          }
          await sleep((this.options.emptyReadBackoffMs ?? EMPTY_READ_BACKOFF_MS) * 2 ** emptyReads++);
          pending = read(next);
          continue;
        }
        emptyReads = 0;
        next = Math.max(end, chunk.lastOffset + 1);
        pending = next < decision.to ? read(next) : Promise.resolve(nothing);
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

  private warn(message: string): void {
    (this.options.onWarning ?? ((m: string) => weirLog.warn(m)))(message);
  }
}
