/**
 * Per-write TTL of one transaction (docs/semantics.md §6.2): the TTL clock, the expiries of the keys
 * written with a TTL (with their savepoint journal), what reads see of them, and, at
 * checkpoint, stamping, the expiry index and the sweep of expired keys.
 *
 * The clock is the highest record timestamp the partition has seen, carried over between
 * transactions by the partition and persisted (changelogged, see TTL_CLOCK_CF) in TTL
 * mode. A partition enters TTL mode with its first TTL write and never leaves it: from
 * then on every default-family value is stored stamped (`BE64(expiresAt) || value`), reads
 * hide expired ones, and every checkpoint deletes expired keys (up to the partition's
 * budget) with tombstones on the changelog, so neither a compacted changelog nor a
 * recovery keeps them.
 */
import { encodeBE64 } from '../../shared/codecs/be64.js';
import { decodeExpiryIndexKey, encodeExpiryIndexKey, NEVER_EXPIRES, readLiveValue, readStamp, stampValue } from '../../shared/codecs/ttl-stamp.js';
import { byteKeyId, keyFromId } from './byte-key-id.js';
import { DEFAULT_CF, TTL_CLOCK_CF, TTL_HIGH_WATER_KEY, TTL_INDEX_CF } from './column-families.js';
import type { TransactionStorage } from './state-interfaces.js';
import { cachedBytes, type TransactionCache } from './transaction-cache.js';

const TTL_HIGH_WATER_KEY_ID = byteKeyId(TTL_HIGH_WATER_KEY);
const EMPTY_VALUE = new Uint8Array(0);

/** The TTL state of one transaction. See the module comment. */
export class TransactionTtl {
  readonly #storage: TransactionStorage;
  /** Expiry (epoch ms) of each default-family key written with a TTL here, by key id. */
  readonly #expiries = new Map<string, number>();
  /** Expiries before each change since the savepoint, oldest first. */
  #journal: Array<[keyId: string, expiresAt: number | undefined]> | undefined;
  /** The TTL clock: the highest record timestamp seen by this partition. */
  #clockMs: number;
  /** The clock when the transaction began: a TTL-mode checkpoint persists it only when it moved. */
  readonly #clockAtBeginMs: number;

  constructor(storage: TransactionStorage) {
    this.#storage = storage;
    this.#clockMs = storage.ttlHighWaterMs;
    this.#clockAtBeginMs = this.#clockMs;
  }

  /** The current clock. */
  get clockMs(): number {
    return this.#clockMs;
  }

  /** Advances the clock to a record's timestamp (it never goes back). */
  observe(timestampMs: number): void {
    if (timestampMs > this.#clockMs) this.#clockMs = timestampMs;
  }

  // ---- reads -----------------------------------------------------------------

  /** A value written in this transaction, unless it was written with a TTL the clock has reached. */
  liveWrite<T>(keyId: string, value: T): T | undefined {
    if (this.#expiries.size === 0) return value;
    const expiresAt = this.#expiries.get(keyId);
    return expiresAt !== undefined && expiresAt <= this.#clockMs ? undefined : value;
  }

  /** What a stored value reads as: in TTL mode a default-family value loses its stamp, or is missing once expired. */
  visibleRead(cf: string, read: Uint8Array | null): Uint8Array | undefined {
    if (read === null) return undefined;
    return cf === DEFAULT_CF && this.#storage.ttlEnabled ? readLiveValue(read, this.#clockMs)?.payload : read;
  }

  // ---- writes ----------------------------------------------------------------

  /** Notes a write of `keyId` in `cf`: expiring at `expiresAtMs`, or never (replacing a TTL written before). */
  noteWrite(cf: string, keyId: string, expiresAtMs: number | undefined): void {
    if (this.#journal !== undefined && cf === DEFAULT_CF) this.#journal.push([keyId, this.#expiries.get(keyId)]);
    if (expiresAtMs !== undefined) this.#expiries.set(keyId, expiresAtMs);
    else if (this.#expiries.size > 0 && cf === DEFAULT_CF) this.#expiries.delete(keyId);
  }

  /** Notes a delete of `keyId` in `cf`: a TTL written before goes with it. */
  noteDelete(cf: string, keyId: string): void {
    this.noteWrite(cf, keyId, undefined);
  }

  /** Start journaling expiries, with the cache's savepoint. */
  setSavepoint(): void {
    this.#journal = [];
  }

  /** Keep the expiries noted since the savepoint. */
  releaseSavepoint(): void {
    this.#journal = undefined;
  }

  /** Undo the expiries noted since the savepoint. */
  rollbackToSavepoint(): void {
    const journal = this.#journal ?? [];
    this.#journal = undefined;
    for (let i = journal.length - 1; i >= 0; i--) {
      const [keyId, expiresAt] = journal[i]!;
      if (expiresAt === undefined) this.#expiries.delete(keyId);
      else this.#expiries.set(keyId, expiresAt);
    }
  }

  // ---- checkpoint --------------------------------------------------------------

  /**
   * Hands the clock to the partition (later transactions start from it in any mode) and
   * tells whether {@link apply} has work: the partition is in TTL mode or this
   * transaction wrote with a TTL.
   */
  needsApply(): boolean {
    this.#storage.noteTtlHighWater(this.#checkpointClock());
    return this.#storage.ttlEnabled || this.#expiries.size > 0;
  }

  /**
   * At prepare (or a flush without prepare), when {@link needsApply}: switches the
   * partition into TTL mode if needed, stamps every default-family update in `cache`
   * with its expiry (never, unless written with a TTL) and indexes the expiring ones,
   * deletes expired keys ({@link sweepExpired}), and writes the clock when it moved.
   * Call it after the previous checkpoint's flush, since it reads what that flush writes.
   */
  async apply(cache: TransactionCache): Promise<void> {
    const storage = this.#storage;
    const clock = this.#checkpointClock();
    const switching = !storage.ttlEnabled;
    await storage.enableTtl();
    // Re-setting a key it iterates keeps the map's order and visits no key twice.
    for (const [keyId, update] of cache.updates(DEFAULT_CF)) {
      const expiresAt = this.#expiries.get(keyId) ?? NEVER_EXPIRES;
      cache.set(DEFAULT_CF, update.prefixLength, keyId, stampValue(expiresAt, cachedBytes(update.value)));
      if (expiresAt === NEVER_EXPIRES) continue;
      const indexKey = encodeExpiryIndexKey(expiresAt, keyFromId(keyId));
      cache.set(TTL_INDEX_CF, 0, byteKeyId(indexKey), EMPTY_VALUE);
    }
    this.#expiries.clear();
    await sweepExpired(cache, storage, clock);
    if (switching || clock > this.#clockAtBeginMs) {
      cache.set(TTL_CLOCK_CF, 0, TTL_HIGH_WATER_KEY_ID, encodeBE64(clock));
    }
  }

  /** The clock as persisted: whole non-negative milliseconds. */
  #checkpointClock(): number {
    return Math.max(0, Math.floor(this.#clockMs));
  }
}

/**
 * Deletes keys whose expiry `clock` has reached, in expiry order, at most the
 * partition's budget per checkpoint: each such key gets a delete in `cache` (a changelog
 * tombstone) and loses its index entry. Index entries that no longer match their key
 * (overwritten, deleted) are dropped. Keys written or deleted in this transaction are
 * left alone, entry included: the write decides their fate (docs/semantics.md §6.2).
 */
export async function sweepExpired(cache: TransactionCache, storage: TransactionStorage, clock: number): Promise<void> {
  const budget = storage.ttlMaxEvictionsPerCheckpoint;
  if (budget <= 0) return;
  const candidates: { indexKey: Uint8Array; storedKey: Uint8Array; expiresAt: number }[] = [];
  let touched: Set<string> | undefined;
  for await (const [indexKey] of storage.iterItems({ cf: TTL_INDEX_CF, upper: encodeBE64(clock + 1) })) {
    const entry = decodeExpiryIndexKey(indexKey);
    if (entry === undefined) {
      cache.delete(TTL_INDEX_CF, byteKeyId(indexKey));
      continue;
    }
    touched ??= defaultKeysTouched(cache);
    if (touched.has(byteKeyId(entry.storedKey))) continue;
    candidates.push({ indexKey, storedKey: entry.storedKey, expiresAt: entry.expiresAtMs });
    if (candidates.length >= budget) break;
  }
  if (candidates.length === 0) return;
  const stored = await storage.getMany(
    candidates.map((c) => c.storedKey),
    DEFAULT_CF,
  );
  for (let i = 0; i < candidates.length; i++) {
    const { indexKey, storedKey, expiresAt } = candidates[i]!;
    const value = stored[i];
    if (value !== undefined && readStamp(value) === expiresAt) {
      cache.delete(DEFAULT_CF, byteKeyId(storedKey));
    }
    cache.delete(TTL_INDEX_CF, byteKeyId(indexKey));
  }
}

/** Ids of the default-family keys `cache` writes or deletes. */
function defaultKeysTouched(cache: TransactionCache): Set<string> {
  const ids = new Set<string>(cache.deletes(DEFAULT_CF));
  for (const id of cache.updates(DEFAULT_CF).keys()) ids.add(id);
  return ids;
}
