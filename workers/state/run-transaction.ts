import type { ChangelogRecord } from './changelog-record.js';
import type { PartitionTransaction } from './partition-transaction.js';
import type { StorePartition } from './store-partition.js';

/**
 * The reference's `with partition.begin() as tx` block: runs `work` in a new
 * transaction; on success prepares (processed offsets unknown → `null`) and flushes
 * (no changelog offset), returning the changelog records for the caller to produce;
 * if `work` throws, nothing is written and the error propagates.
 */
export async function runTransaction(
  partition: StorePartition,
  work: (tx: PartitionTransaction) => void | Promise<void>,
): Promise<ChangelogRecord[]> {
  const tx = partition.begin();
  await work(tx);
  const changelog = await tx.prepare(null);
  await tx.flush();
  return changelog.records();
}
