import type { RecordHeader } from '../../shared/log/log-backend.js';
import { COLUMN_FAMILY_HEADER, DEFAULT_CF, LOCAL_ONLY_CFS, PROCESSED_OFFSETS_HEADER, TTL_STAMPED_HEADER } from './column-families.js';
import { keyFromId } from './byte-key-id.js';
import { cachedBytes, type TransactionCache } from './transaction-cache.js';

/** A changelog record produced by `prepare` for the caller to send (docs/semantics.md §3.4). */
export interface ChangelogRecord {
  /** Full stored key bytes (prefix included). */
  readonly key: Uint8Array;
  /** Stored value bytes, or `null` for a tombstone. */
  readonly value: Uint8Array | null;
  /** `__column_family__` and `__processed_tp_offsets__`. */
  readonly headers: readonly RecordHeader[];
}

/** A changelog record read back during recovery, with its changelog offset. */
export interface ReplayedChangelogRecord {
  readonly key: unknown;
  readonly value: unknown;
  /** Header values may arrive as bytes or strings depending on the log client. */
  readonly headers: readonly { readonly key: string; readonly value: Uint8Array | string | null }[];
  readonly offset: number;
}

/** Committed source offsets (next offset to consume) per source topic; NEVER_COMMITTED (worker-protocol.ts) when none. */
export type CommittedOffsets = Readonly<Record<string, number>>;

/** Processed source offsets per source topic, as carried in `__processed_tp_offsets__`. */
export type ProcessedOffsets = Readonly<Record<string, number>>;

const TTL_STAMPED_HEADER_VALUE = Buffer.from('1', 'latin1');

/**
 * The changelog records of a transaction's cache (docs/semantics.md §3.4): for every column family
 * except the local-only ones, one record per updated key (last value) then one tombstone
 * per deleted key, with headers `__column_family__` and `__processed_tp_offsets__` =
 * `JSON(processedOffsets)` (`null` when unknown); default-family records of a partition
 * in TTL mode (`ttlStamped`) carry stamped values and say so in a header.
 */
export function changelogRecordsOf(cache: TransactionCache, processedOffsets: ProcessedOffsets | null, ttlStamped: boolean): ChangelogRecord[] {
  const offsetsHeader = Buffer.from(JSON.stringify(processedOffsets), 'utf8');
  const records: ChangelogRecord[] = [];
  for (const cf of cache.columnFamilies()) {
    if (LOCAL_ONLY_CFS.has(cf)) continue;
    const headers: RecordHeader[] = [
      { key: COLUMN_FAMILY_HEADER, value: Buffer.from(cf, 'utf8') },
      { key: PROCESSED_OFFSETS_HEADER, value: offsetsHeader },
    ];
    if (cf === DEFAULT_CF && ttlStamped) headers.push({ key: TTL_STAMPED_HEADER, value: TTL_STAMPED_HEADER_VALUE });
    for (const [id, update] of cache.updates(cf)) records.push({ key: keyFromId(id), value: cachedBytes(update.value), headers });
    for (const id of cache.deletes(cf)) records.push({ key: keyFromId(id), value: null, headers });
  }
  return records;
}
