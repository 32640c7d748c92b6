import { PartitionNotAssignedError } from '../../shared/errors/state-errors.js';
import type { PartitionTransaction } from './partition-transaction.js';
import type { StateStore } from './state-store.js';
import { StorePartition, type StorePartitionOptions } from './store-partition.js';
import { storePartitionDir } from './state-layout.js';

/** Everything a key-value store needs. */
export interface KeyValueStoreConfig {
  readonly name: string;
  /** Stream id; `null` puts partitions at `<base>/<name>/<partition>`. */
  readonly streamId: string | null;
  /** `<state dir>/<consumer group>`. */
  readonly baseDir: string;
  readonly hasChangelog: boolean;
  /** Open options for every partition (`hasChangelog`, store name and partition are taken from above). */
  readonly options?: Omit<StorePartitionOptions, 'hasChangelog' | 'storeName' | 'partition'>;
}

/**
 * The plain key-value store: one {@link StorePartition} per assigned partition, at
 * `<base>/<name>/<streamId>/<partition>/` (docs/semantics.md §1.4).
 */
export class KeyValueStore implements StateStore {
  readonly name: string;
  readonly streamId: string | null;
  readonly baseDir: string;
  readonly hasChangelog: boolean;
  readonly #options: Omit<StorePartitionOptions, 'hasChangelog' | 'storeName' | 'partition'>;
  readonly #partitions = new Map<number, StorePartition>();
  /** Opens in flight, so concurrent assigns of one partition share one open. */
  readonly #opening = new Map<number, Promise<StorePartition>>();

  constructor(config: KeyValueStoreConfig) {
    this.name = config.name;
    this.streamId = config.streamId;
    this.baseDir = config.baseDir;
    this.hasChangelog = config.hasChangelog;
    this.#options = config.options ?? {};
  }

  get partitions(): ReadonlyMap<number, StorePartition> {
    return this.#partitions;
  }

  partitionPath(partition: number): string {
    return storePartitionDir(this.baseDir, this.name, this.streamId, partition);
  }

  async assignPartition(partition: number): Promise<StorePartition> {
    const open = this.#partitions.get(partition);
    if (open !== undefined && !open.closed) return open;
    if (open !== undefined) {
      // Closed by itself: it found its database damaged and deleted it (StoreCorruptedError
      // with resolution "recreated"). Opening again starts it empty, for recovery to rebuild.
      this.#partitions.delete(partition);
      await open.close();
    }
    let opening = this.#opening.get(partition);
    if (opening === undefined) {
      opening = StorePartition.open(this.partitionPath(partition), {
        ...this.#options,
        hasChangelog: this.hasChangelog,
        storeName: this.name,
        partition,
      });
      this.#opening.set(partition, opening);
    }
    try {
      const opened = await opening;
      this.#partitions.set(partition, opened);
      return opened;
    } finally {
      this.#opening.delete(partition);
    }
  }

  async revokePartition(partition: number): Promise<void> {
    const opening = this.#opening.get(partition);
    if (opening !== undefined) {
      // Let the open in flight land first (its continuation registers it), then close it.
      await opening.catch(() => undefined);
    }
    const open = this.#partitions.get(partition);
    if (open === undefined) return;
    this.#partitions.delete(partition);
    await open.close();
  }

  async destroyPartition(partition: number): Promise<void> {
    await this.revokePartition(partition);
    await StorePartition.destroy(this.partitionPath(partition));
  }

  beginTransaction(partition: number): PartitionTransaction {
    const open = this.#partitions.get(partition);
    if (open === undefined) throw new PartitionNotAssignedError(this.name, partition);
    return open.begin();
  }

  async close(): Promise<void> {
    for (const partition of [...this.#partitions.keys()]) await this.revokePartition(partition);
  }
}
