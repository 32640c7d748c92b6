/**
 * The `weir_state_size_bytes` gauge's numbers (docs/server.md): the bytes on disk of each
 * assigned store partition's LevelDB directory (SST tables, the write-ahead log,
 * manifest), summed from `stat`s of the job's own state directories, never a path taken
 * from a request.
 *
 * Why the directory and not LevelDB's `approximateSize`: approximateSize counts only
 * SST tables, so state still in the memtable and its write-ahead log (all of a small
 * store, and the newest writes of any) reads as 0; and it would cost a round trip to the
 * worker that holds the database, between its batches. The directory sum is exact for
 * what is on disk and is taken by the coordinator with asynchronous `readdir`/`stat`,
 * so neither the coordinator's loop nor a worker waits for it.
 *
 * The sizes change only when a checkpoint flushes or a recovery writes, so they are
 * measured again at most once per checkpoint (or recovery progress, or change of the
 * assigned partitions): a scrape after none of these reuses the last numbers.
 */
import { directoryBytes } from '../../shared/directory-bytes.js';
import type { WeirConfig } from '../../config/index.js';
import { appStateDir, storePartitionDir } from '../../workers/state/state-layout.js';
import { streamIdOf } from '../changelog-topics.js';

/** One store partition's size. */
export interface StatePartitionSize {
  readonly store: string;
  readonly partition: number;
  readonly bytes: number;
}

/** Measures the store partitions of a job, again only after a new checkpoint (see above). */
export class StateSizes {
  private measuredAt = -1;
  private last: readonly StatePartitionSize[] = [];
  private pending: Promise<readonly StatePartitionSize[]> | undefined;
  private readonly appDir: string;
  private readonly streamId: string;

  constructor(config: WeirConfig) {
    this.appDir = appStateDir(config.state.dir, config.appId);
    this.streamId = streamIdOf(config.input.topics);
  }

  /**
   * The sizes of `stores` × `partitions`, measured again when `version` (what changes
   * when state is written: checkpoints committed + changelog records recovered) or the
   * set of partitions changed since the last measurement.
   */
  async sizes(stores: readonly string[], partitions: readonly number[], version: number): Promise<readonly StatePartitionSize[]> {
    const same =
      version === this.measuredAt &&
      this.last.length === stores.length * partitions.length &&
      this.last.every((s, i) => s.partition === partitions[i % partitions.length]);
    if (same) return this.last;
    // Concurrent scrapes share one measurement. It is cleared once settled, never from
    // inside: a measurement of no partitions finishes before it would be stored.
    if (this.pending === undefined) {
      const measuring = this.measure(stores, partitions, version);
      this.pending = measuring;
      const clear = (): void => {
        if (this.pending === measuring) this.pending = undefined;
      };
      measuring.then(clear, clear);
    }
    return this.pending;
  }

  private async measure(stores: readonly string[], partitions: readonly number[], version: number): Promise<readonly StatePartitionSize[]> {
    const sizes: StatePartitionSize[] = [];
    for (const store of stores) {
      for (const partition of partitions) {
        sizes.push({ store, partition, bytes: await directoryBytes(storePartitionDir(this.appDir, store, this.streamId, partition)) });
      }
    }
    this.last = sizes;
    this.measuredAt = version;
    return sizes;
  }
}
