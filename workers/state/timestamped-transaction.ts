/**
 * The timestamped store's transaction (Quix Streams' TimestampedStore, docs/semantics.md §6.1):
 * values keyed `prefix|BE64(timestamp)|BE64(counter)` in `default`, the latest value at
 * or before a time, values in an interval, and retention by grace per key: each key's
 * "min eligible timestamp" (`max(ts - grace)` over its writes, never decreasing) hides
 * older values from {@link getLatest}, and at {@link prepare} the values below it are
 * deleted (tombstones on the changelog) for the keys written in this transaction.
 *
 * Composes a {@link PartitionTransaction}: call this wrapper's `prepare` (it runs the
 * retention first) instead of the transaction's.
 */
import { appendInteger, concatBytes, decodeBE64Number, encodeBE64, encodeIntPair, encodePrefix, SEPARATOR_BYTES } from '../../shared/codecs/index.js';
import { byteKeyId } from './byte-key-id.js';
import type { ProcessedOffsets } from './changelog-record.js';
import type { TransactionChangelog } from './transaction-changelog.js';
import type { PartitionTransaction } from './partition-transaction.js';

/** Column family of the per-key retention watermark (raw `BE64`, not JSON). */
export const MIN_ELIGIBLE_TIMESTAMPS_CF = '__min-eligible-timestamps__';
/** Key of the retention watermark under each prefix. */
export const MIN_ELIGIBLE_TIMESTAMP_KEY: Uint8Array = Buffer.from('__min_eligible_timestamps__', 'latin1');

/** Options of a timestamped store. */
export interface TimestampedStoreOptions {
  /** How far behind a key's newest write values stay eligible (retention), ms. */
  readonly graceMs: number;
  /** Keep several values at the same timestamp (a global counter tells them apart); else the last write wins. */
  readonly keepDuplicates: boolean;
}

/** A message key as a prefix: bytes verbatim, anything else compact JSON (`"key"` ≡ the bytes `"key"`). */
export type TimestampedPrefix = unknown;

/** See the module comment. */
export class TimestampedTransaction {
  /** Prefixes written in this transaction (id → bytes), whose retention runs at prepare. */
  readonly #written = new Map<string, Uint8Array>();

  constructor(
    readonly transaction: PartitionTransaction,
    readonly options: TimestampedStoreOptions,
  ) {}

  /** User key of `(timestamp, counter)`: the pair, `|pair` for an empty prefix (the format always has the separator). */
  #userKey(prefix: Uint8Array, timestamp: number, counter: number | bigint): Uint8Array {
    const pair = encodeIntPair(timestamp, counter);
    return prefix.length === 0 ? concatBytes(SEPARATOR_BYTES, pair) : pair;
  }

  /** The key's retention watermark, 0 if none. */
  async getMinEligible(prefix: TimestampedPrefix): Promise<number> {
    const p = encodePrefix(prefix);
    const bytes = await this.transaction.getBytesAsync(MIN_ELIGIBLE_TIMESTAMP_KEY, p, MIN_ELIGIBLE_TIMESTAMPS_CF);
    return bytes === undefined ? 0 : decodeBE64Number(bytes);
  }

  /** Stores `value` at `timestamp` for the key and advances its retention watermark. */
  async setForTimestamp(timestamp: number, value: unknown, prefix: TimestampedPrefix): Promise<void> {
    const p = encodePrefix(prefix);
    const counter = this.options.keepDuplicates ? this.transaction.nextGlobalCounter() : 0;
    this.transaction.set(this.#userKey(p, timestamp, counter), value, p);
    const current = await this.getMinEligible(p);
    const candidate = Math.max(timestamp - this.options.graceMs, 0);
    if (candidate > current || (await this.transaction.getBytesAsync(MIN_ELIGIBLE_TIMESTAMP_KEY, p, MIN_ELIGIBLE_TIMESTAMPS_CF)) === undefined) {
      this.transaction.setBytes(MIN_ELIGIBLE_TIMESTAMP_KEY, encodeBE64(Math.max(candidate, current)), p, MIN_ELIGIBLE_TIMESTAMPS_CF);
    }
    this.#written.set(byteKeyId(p), p);
  }

  /**
   * The value with the greatest `(timestamp, counter)` in `[minEligible, timestamp]`, or
   * `undefined`. Cached writes and stored values both count; the later key wins.
   */
  async getLatest(timestamp: number, prefix: TimestampedPrefix): Promise<unknown> {
    const p = encodePrefix(prefix);
    const minEligible = await this.getMinEligible(p);
    if (timestamp + 1 <= minEligible) return undefined;
    const items = await this.transaction.getItems(minEligible, timestamp + 1, p, true);
    const newest = items[0];
    return newest === undefined ? undefined : JSON.parse(Buffer.from(newest[1]).toString('utf8'));
  }

  /** Values with timestamps in `[start, end)` ascending (start clamped ≥ 0; no retention filter). */
  async getInterval(start: number, end: number, prefix: TimestampedPrefix): Promise<unknown[]> {
    const items = await this.transaction.getItems(start, end, encodePrefix(prefix));
    return items.map(([, value]) => JSON.parse(Buffer.from(value).toString('utf8')));
  }

  /**
   * Retention: for every key written in this transaction, deletes its values below its
   * watermark, cached and stored (the range starts at `prefix|` so a key never reaches
   * into another key that shares its leading bytes).
   */
  async expire(): Promise<void> {
    for (const p of this.#written.values()) {
      const minEligible = await this.getMinEligible(p);
      if (minEligible <= 0) continue;
      const lower = p.length === 0 ? SEPARATOR_BYTES : concatBytes(p, SEPARATOR_BYTES);
      const items = await this.transaction.getRange({ prefix: p, lower, upper: appendInteger(p, minEligible) });
      for (const [key] of items) this.transaction.delete(key.subarray(p.length === 0 ? 0 : p.length + 1), p);
    }
    this.#written.clear();
  }

  /** Runs {@link expire}, then prepares the transaction. */
  async prepare(processedOffsets: ProcessedOffsets | null = null): Promise<TransactionChangelog> {
    await this.expire();
    return this.transaction.prepare(processedOffsets);
  }
}
