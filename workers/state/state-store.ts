import type { PartitionTransaction } from './partition-transaction.js';
import type { StorePartition } from './store-partition.js';

/**
 * One logical store (name + stream id) holding its assigned partitions (docs/semantics.md §1.1).
 * Every store kind (key-value, windowed, timestamped) implements it.
 */
export interface StateStore {
  readonly name: string;
  /** Stream id (source topics); `null` for stores of stateful sources. */
  readonly streamId: string | null;
  /** Whether the store's changes go to a changelog topic. */
  readonly hasChangelog: boolean;
  /** Assigned partitions by number. */
  readonly partitions: ReadonlyMap<number, StorePartition>;
  /** Directory of one partition's database. */
  partitionPath(partition: number): string;
  /** Opens the partition (idempotent: returns the open one). */
  assignPartition(partition: number): Promise<StorePartition>;
  /** Closes and forgets the partition; no-op if not assigned. */
  revokePartition(partition: number): Promise<void>;
  /** Revokes the partition, then deletes its data on disk. */
  destroyPartition(partition: number): Promise<void>;
  /** A new transaction on an assigned partition, else `PartitionNotAssignedError`. */
  beginTransaction(partition: number): PartitionTransaction;
  /** Revokes every partition. */
  close(): Promise<void>;
}
