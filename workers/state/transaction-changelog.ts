/**
 * The changelog of a prepared transaction (docs/semantics.md §3.4), read from its cache
 * when it is encoded rather than copied into one record object per key at `prepare`.
 *
 * A prepared transaction's cache no longer changes, so the changelog can wait for the
 * encoder: a checkpoint over many keys then allocates no record, key or header objects
 * per key while it is cut (they survived into the worker's old generation while the
 * changelog waited for its turn to be encoded, and the cut held the worker's queue).
 */
import type { RecordHeader } from '../../shared/log/log-backend.js';
import { BATCH_HEADER_BYTES, RecordBatchBuilder, encodeHeaderBlock, recordBytesWithHeaderBlock } from '../../shared/protocol/record-batch.js';
import { COLUMN_FAMILY_HEADER, DEFAULT_CF, LOCAL_ONLY_CFS, PROCESSED_OFFSETS_HEADER, TTL_STAMPED_HEADER } from './column-families.js';
import { keyFromId } from './byte-key-id.js';
import type { ChangelogRecord, ProcessedOffsets } from './changelog-record.js';
import { cachedBytes, type CachedUpdate, type TransactionCache } from './transaction-cache.js';
import { jsonText } from '../../shared/codecs/json-codec.js';

const TTL_STAMPED_HEADER_VALUE = Buffer.from('1', 'latin1');

/** Records per changelog batch at most ({@link TransactionChangelog.encodeBatches}): ~130 KB of count-job records. */
export const CHANGELOG_BATCH_RECORDS = 1024;

/** One column family's part: its updates then its deletes, all with the same headers. */
interface FamilyChangelog {
  readonly headers: readonly RecordHeader[];
  readonly updates: ReadonlyMap<string, CachedUpdate>;
  readonly deletes: ReadonlySet<string>;
}

/** See the module comment. */
export class TransactionChangelog {
  /** A changelog without records (a store without a changelog topic, or nothing changed). */
  static readonly EMPTY = new TransactionChangelog([]);

  /** Records in the changelog. */
  readonly length: number;

  private constructor(private readonly families: readonly FamilyChangelog[]) {
    let length = 0;
    for (const family of families) length += family.updates.size + family.deletes.size;
    this.length = length;
  }

  /**
   * The changelog of `cache`, which must not change any more: for every column family
   * except the local-only ones, one record per updated key (last value) then one tombstone
   * per deleted key, with headers `__column_family__` and `__processed_tp_offsets__` =
   * `JSON(processedOffsets)` (`null` when unknown); default-family records of a partition
   * in TTL mode (`ttlStamped`) carry stamped values and say so in a header.
   */
  static of(cache: TransactionCache, processedOffsets: ProcessedOffsets | null, ttlStamped: boolean): TransactionChangelog {
    const offsetsHeader = Buffer.from(JSON.stringify(processedOffsets), 'utf8');
    const families: FamilyChangelog[] = [];
    for (const cf of cache.columnFamilies()) {
      if (LOCAL_ONLY_CFS.has(cf)) continue;
      const headers: RecordHeader[] = [
        { key: COLUMN_FAMILY_HEADER, value: Buffer.from(cf, 'utf8') },
        { key: PROCESSED_OFFSETS_HEADER, value: offsetsHeader },
      ];
      if (cf === DEFAULT_CF && ttlStamped) headers.push({ key: TTL_STAMPED_HEADER, value: TTL_STAMPED_HEADER_VALUE });
      families.push({ headers, updates: cache.updates(cf), deletes: cache.deletes(cf) });
    }
    return families.length === 0 ? TransactionChangelog.EMPTY : new TransactionChangelog(families);
  }

  /** The records, each its own object (for callers that hand records over one by one). */
  records(): ChangelogRecord[] {
    const records: ChangelogRecord[] = [];
    for (const { headers, updates, deletes } of this.families) {
      for (const [id, update] of updates) records.push({ key: keyFromId(id), value: cachedBytes(update.value), headers });
      for (const id of deletes) records.push({ key: keyFromId(id), value: null, headers });
    }
    return records;
  }

  /**
   * The changelog as one record batch, every record stamped `timestamp`, in an
   * ArrayBuffer of its own (ready for a transfer list).
   */
  encode(timestamp: number): ArrayBuffer {
    let only: ArrayBuffer | undefined;
    for (const { buffer } of this.encodeBatches(timestamp, Number.POSITIVE_INFINITY)) only = buffer;
    return only ?? new RecordBatchBuilder(BATCH_HEADER_BYTES).finishTransferable();
  }

  /**
   * The changelog as record batches of at most `maxRecords` records each, in order, every
   * record stamped `timestamp`, each in an ArrayBuffer of its own (ready for a transfer
   * list) and sized up front (growing by doubling would copy it several times). A scalar
   * value is written as its JSON text's UTF-8, the bytes `cachedBytes` gives the flush, so
   * no buffer per changed key has to live until the flush (docs/data-plane.md, rule 14).
   * A caller gives its event loop a turn between batches: a whole store partition's
   * changelog at once held a worker for tens of milliseconds at high rates, and the log
   * appends it piece by piece, other appends in between (docs/data-plane.md, rule 6).
   */
  *encodeBatches(timestamp: number, maxRecords: number = CHANGELOG_BATCH_RECORDS): Generator<{ buffer: ArrayBuffer; count: number }> {
    const ids: string[] = [];
    const values: (Uint8Array | string | null)[] = [];
    const blocks: Uint8Array[] = [];
    const batch = (): { buffer: ArrayBuffer; count: number } => {
      let bytes = BATCH_HEADER_BYTES;
      for (let i = 0; i < ids.length; i++) bytes += recordBytesWithHeaderBlock(ids[i]!.length, values[i]!, blocks[i]!);
      // Sized for the most a string value takes; the finished batch is copied to its size.
      const builder = new RecordBatchBuilder(bytes);
      for (let i = 0; i < ids.length; i++) builder.addWithHeaderBlock(timestamp, ids[i]!, values[i]!, blocks[i]!);
      const count = ids.length;
      ids.length = 0;
      values.length = 0;
      blocks.length = 0;
      return { buffer: builder.finishTransferable(), count };
    };
    for (const { headers, updates, deletes } of this.families) {
      const block = encodeHeaderBlock(headers);
      for (const [id, update] of updates) {
        ids.push(id);
        values.push(typeof update.value === 'object' ? update.value : jsonText(update.value));
        blocks.push(block);
        if (ids.length >= maxRecords) yield batch();
      }
      for (const id of deletes) {
        ids.push(id);
        values.push(null);
        blocks.push(block);
        if (ids.length >= maxRecords) yield batch();
      }
    }
    if (ids.length > 0) yield batch();
  }
}
