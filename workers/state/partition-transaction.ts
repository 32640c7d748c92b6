import {
  InvalidChangelogOffsetError,
  InvalidTtlError,
  StateKeyNotLoadedError,
  StateSerializationError,
  StateTransactionError,
} from '../../shared/errors/state-errors.js';
import { BE64_MAX } from '../../shared/codecs/be64.js';
import { appendInteger } from '../../shared/codecs/integer-keys.js';
import { decodeJson, encodeJson } from '../../shared/codecs/json-codec.js';
import { encodePrefix, encodeUserKey, joinPrefixedKey } from '../../shared/codecs/state-keys.js';
import { byteKeyId, keyFromId } from './byte-key-id.js';
import type { ProcessedOffsets } from './changelog-record.js';
import { TransactionChangelog } from './transaction-changelog.js';
import { DEFAULT_CF, GLOBAL_COUNTER_CF, GLOBAL_COUNTER_KEY } from './column-families.js';
import { StateView } from './state-view.js';
import type { KeyedStateTransaction, RangeOptions, TransactionStorage } from './state-interfaces.js';
import { cachedBytes, cachedEntrySize, DELETED, TransactionCache, UNDEFINED, type CachedValue } from './transaction-cache.js';
import { TransactionTtl } from './transaction-ttl.js';

/** Status of a transaction (docs/semantics.md §3.2). */
export type TransactionStatus = 'STARTED' | 'PREPARED' | 'COMPLETE' | 'FAILED';

/**
 * Range read in a transaction: `lower` inclusive, `upper` exclusive (both stored keys,
 * `prefix|...`), within one prefix bucket or, without `prefix`, across the whole family.
 */
export interface TransactionRangeOptions extends RangeOptions {
  /**
   * Prefix whose cached updates are merged with the stored entries: give it whenever the
   * bounds lie within one prefix (the cache is bucketed by prefix, so only that bucket is
   * read). Omitted: the cached updates of every prefix are merged (a scan of the family).
   */
  readonly prefix?: Uint8Array;
}

const GLOBAL_COUNTER_KEY_ID = byteKeyId(GLOBAL_COUNTER_KEY);

/** Read-cache marker of a key whose preload is in flight (a sync read must not see it as absent). */
const LOADING: unique symbol = Symbol('LOADING');
type ReadCacheEntry = Uint8Array | null | typeof LOADING;

/**
 * Encoded string user keys: state code uses a handful of key names ("count", "sum"),
 * so their JSON bytes are computed once. Bounded; the bytes are never handed out
 * mutable (stored keys copy them, except for an empty prefix where they are only read).
 */
const STRING_KEY_CACHE_LIMIT = 4096;
const stringKeyCache = new Map<string, Uint8Array>();

function encodeKey(key: unknown): Uint8Array {
  if (typeof key !== 'string') return encodeUserKey(key);
  let encoded = stringKeyCache.get(key);
  if (encoded === undefined) {
    if (stringKeyCache.size >= STRING_KEY_CACHE_LIMIT) stringKeyCache.clear();
    encoded = encodeUserKey(key);
    stringKeyCache.set(key, encoded);
  }
  return encoded;
}

/** {@link PartitionTransaction.peek}: the key is not in the transaction's caches. */
export const NOT_CACHED: unique symbol = Symbol('NOT_CACHED');

/**
 * The unit of work on one store partition (Quix Streams' PartitionTransaction): an
 * update/delete cache with read-your-writes, a read cache filled by {@link preload},
 * and the status machine STARTED → PREPARED → COMPLETE, or → FAILED (docs/semantics.md §3).
 *
 * Reads come in two kinds. The synchronous ones (`get`, `getBytes`, `exists`) answer
 * from the write cache or the read cache and throw {@link StateKeyNotLoadedError}
 * when the key was neither preloaded nor written: load all keys of a batch with one
 * {@link preload} (one engine `getMany`), then run user code synchronously. The
 * `...Async` ones fall back to the database. Reads are cached for the life of the
 * transaction (the partition has a single owner, so nothing else writes meanwhile).
 *
 * Keys: a `Uint8Array` is used verbatim, anything else as compact JSON; the stored key
 * is `prefix|key`. Values: compact JSON, or raw bytes with the `...Bytes` methods.
 *
 * Per-write TTL (docs/semantics.md §6.2): {@link setExpiring} writes a default-family value that
 * disappears once the TTL clock (the highest record timestamp passed to
 * {@link observeTimestamp}, persisted per partition) reaches its expiry. The first such
 * write switches the partition into TTL mode at `prepare`. The TTL machinery (clock,
 * expiries, stamping, expiry index, sweep) is {@link TransactionTtl}.
 */
export class PartitionTransaction implements KeyedStateTransaction {
  readonly #partition: TransactionStorage;
  /** The update/delete cache, written by the partition at flush. */
  readonly #cache = new TransactionCache();
  /** cf → key id → stored value, `null` when absent from the database, {@link LOADING} while a preload runs. */
  readonly #reads = new Map<string, Map<string, ReadCacheEntry>>();
  /** Estimated bytes of {@link #reads} (see {@link heldBytes}). */
  #readBytes = 0;
  #status: TransactionStatus = 'STARTED';
  /** Last global counter value handed out in this transaction, if any. */
  #counter: bigint | undefined;
  /**
   * The last resolved key (stored key bytes and id), reused when the same primitive
   * key is used again with the same prefix: the read-modify-write pattern
   * `set(k, get(k) + 1)` then encodes the key once.
   */
  #memoKey: unknown = undefined;
  #memoPrefix: Uint8Array | undefined;
  #memoStoredKey: Uint8Array = new Uint8Array(0);
  #memoKeyId = '';
  /** Flush of the transaction this one continues (pipelined checkpoints); database scans wait for it. */
  #predecessorFlushed: Promise<void> | undefined;
  /**
   * The write cache of the prepared transaction this one continues, until this one is
   * prepared: it answers the keyed reads this transaction's own caches cannot (see
   * {@link continueFrom}).
   */
  #predecessor: TransactionCache | undefined;
  /** TTL clock and expiries of this transaction's writes. */
  readonly #ttl: TransactionTtl;

  /** Use `StorePartition.begin`. */
  constructor(partition: TransactionStorage) {
    this.#partition = partition;
    this.#ttl = new TransactionTtl(partition);
  }

  /**
   * Advances the TTL clock to a record's timestamp (it never goes back): values whose
   * expiry is at or before the clock read as missing.
   */
  observeTimestamp(timestampMs: number): void {
    this.#ttl.observe(timestampMs);
  }

  /** Current status. */
  get status(): TransactionStatus {
    return this.#status;
  }

  get failed(): boolean {
    return this.#status === 'FAILED';
  }

  get prepared(): boolean {
    return this.#status === 'PREPARED';
  }

  get completed(): boolean {
    return this.#status === 'COMPLETE';
  }

  /** True until the first set or delete. */
  isEmpty(): boolean {
    return this.#cache.isEmpty();
  }

  /**
   * An estimate of what this transaction's caches hold in memory, its writes and its reads
   * (see `TransactionCache.heldBytes`): both live until the checkpoint, so a worker reports
   * them and a checkpoint starts early above `limits.checkpointBytes`.
   */
  get heldBytes(): number {
    return this.#cache.heldBytes + this.#readBytes;
  }

  /** A user-facing view bound to one message key (used verbatim if bytes, else JSON). */
  asState(messageKey: unknown): StateView {
    return new StateView(this, encodePrefix(messageKey));
  }

  #assertStatus(operation: string, allowPrepared = false): void {
    const status = this.#status;
    if (status === 'STARTED' || (allowPrepared && status === 'PREPARED')) return;
    throw new StateTransactionError(operation, status);
  }

  /** Runs a mutation; any failure marks the transaction FAILED (docs/semantics.md §3.2). */
  #mutate<T>(operation: string, action: () => T): T {
    this.#assertStatus(operation);
    try {
      return action();
    } catch (error) {
      this.#status = 'FAILED';
      throw error;
    }
  }

  /**
   * Pipelined checkpoints: begin on top of `previous`, a prepared transaction whose flush
   * is still pending, so processing goes on while its changelog is being produced. Its
   * write cache answers this transaction's keyed reads of the keys it wrote or deleted
   * (they then never see the database without its writes; keys it did not touch are
   * unaffected by its flush), before and after its flush, until this transaction is
   * prepared. It is looked up, not copied: a copy of every key cost the first batch after
   * each checkpoint tens of milliseconds per worker (docs/data-plane.md, rule 14). Its
   * global counter carries over, and database scans (range reads, async reads) wait for
   * `previousFlushed` because they cannot be patched key by key.
   */
  continueFrom(previous: PartitionTransaction, previousFlushed: Promise<void>): void {
    this.#assertStatus('continueFrom');
    this.#predecessor = previous.#cache;
    if (previous.#counter !== undefined) this.#counter = previous.#counter;
    this.#ttl.observe(previous.#ttl.clockMs);
    // A failed predecessor stops the job; scans must not hang or throw because of it.
    this.#predecessorFlushed = previousFlushed.catch(() => undefined);
  }

  async #predecessorSettled(): Promise<void> {
    if (this.#predecessorFlushed !== undefined) {
      await this.#predecessorFlushed;
      this.#predecessorFlushed = undefined;
    }
  }

  #readCache(cf: string): Map<string, ReadCacheEntry> {
    let reads = this.#reads.get(cf);
    if (reads === undefined) {
      reads = new Map();
      this.#reads.set(cf, reads);
    }
    return reads;
  }

  /** True when the predecessor (see {@link continueFrom}) wrote or deleted the key. */
  #predecessorTouched(cf: string, keyId: string): boolean {
    return this.#predecessor !== undefined && this.#predecessor.get(cf, keyId) !== UNDEFINED;
  }

  // ---- loading -------------------------------------------------------------

  /**
   * Loads the stored values of `keys` (full stored keys, `prefix|key`) of `cf` that are
   * not cached yet, with one engine `getMany`, so the synchronous reads can answer.
   */
  async preload(keys: readonly Uint8Array[], cf: string = DEFAULT_CF): Promise<void> {
    this.#assertStatus('preload');
    const reads = this.#readCache(cf);
    const missing: Uint8Array[] = [];
    const missingIds: string[] = [];
    for (const key of keys) {
      const id = byteKeyId(key);
      // Written here (a transaction's keys are mostly written ones), or read.
      if (this.#cache.get(cf, id) !== UNDEFINED || reads.has(id) || this.#predecessorTouched(cf, id)) continue;
      reads.set(id, LOADING); // also dedupes repeated keys of this call
      missing.push(key);
      missingIds.push(id);
    }
    if (missing.length === 0) return;
    let values: (Uint8Array | undefined)[];
    try {
      values = await this.#partition.getMany(missing, cf);
    } catch (error) {
      for (const id of missingIds) reads.delete(id);
      throw error;
    }
    for (let i = 0; i < missingIds.length; i++) {
      const value = values[i] ?? null;
      reads.set(missingIds[i]!, value);
      this.#readBytes += cachedEntrySize(missingIds[i]!, value?.byteLength ?? 0);
    }
  }

  // ---- raw lookups by stored key --------------------------------------------

  /**
   * What this transaction's caches say of a key: the write cache, then the read cache,
   * then the predecessor's writes (see {@link continueFrom}). The value as a read sees it
   * (`undefined`: absent, deleted or expired), or {@link NOT_CACHED} when none of them
   * holds the key (or its preload is still in flight).
   */
  #cachedValue(cf: string, keyId: string): CachedValue | undefined | typeof NOT_CACHED {
    const cached = this.#cache.get(cf, keyId);
    if (cached === DELETED) return undefined;
    if (cached !== UNDEFINED) return this.#ttl.liveWrite(keyId, cached);
    const read = this.#reads.get(cf)?.get(keyId);
    if (read !== undefined) return read === LOADING ? NOT_CACHED : this.#ttl.visibleRead(cf, read);
    const earlier = this.#predecessor?.get(cf, keyId) ?? UNDEFINED;
    if (earlier === UNDEFINED) return NOT_CACHED;
    if (earlier === DELETED) return undefined;
    // Its bytes are what the flush stores (with a TTL stamp in TTL mode); a scalar is itself.
    return typeof earlier === 'object' ? this.#ttl.visibleRead(cf, earlier) : earlier;
  }

  /** Sync lookup: {@link #cachedValue}, else {@link StateKeyNotLoadedError}. */
  #lookup(cf: string, keyId: string, storedKey: Uint8Array): CachedValue | undefined {
    const value = this.#cachedValue(cf, keyId);
    if (value === NOT_CACHED) throw new StateKeyNotLoadedError(storedKey, cf);
    return value;
  }

  async #lookupAsync(cf: string, keyId: string, storedKey: Uint8Array): Promise<CachedValue | undefined> {
    const value = this.#cachedValue(cf, keyId);
    if (value !== NOT_CACHED) return value;
    await this.#predecessorSettled();
    const read = (await this.#partition.get(storedKey, cf)) ?? null;
    this.#readCache(cf).set(keyId, read);
    this.#readBytes += cachedEntrySize(keyId, read?.byteLength ?? 0);
    return this.#ttl.visibleRead(cf, read);
  }


  /** Resolves `key` under `prefix` into {@link #memoStoredKey} / {@link #memoKeyId}. */
  #resolve(key: unknown, prefix: Uint8Array): void {
    if (key === this.#memoKey && prefix === this.#memoPrefix && (typeof key === 'string' || typeof key === 'number')) return;
    this.#memoKey = undefined; // invalid until fully resolved (encoding may throw)
    const storedKey = joinPrefixedKey(prefix, encodeKey(key));
    this.#memoStoredKey = storedKey;
    this.#memoKeyId = byteKeyId(storedKey);
    this.#memoPrefix = prefix;
    this.#memoKey = key;
  }

  // ---- keyed reads ---------------------------------------------------------

  /** Raw stored bytes of `key` under `prefix`, or `undefined` (missing or deleted). Sync; see class docs. */
  getBytes(key: unknown, prefix: Uint8Array, cf: string = DEFAULT_CF): Uint8Array | undefined {
    return bytesOrUndefined(this.#lookupKey(key, prefix, cf));
  }

  /** Like {@link getBytes}, falling back to the database. */
  async getBytesAsync(key: unknown, prefix: Uint8Array, cf: string = DEFAULT_CF): Promise<Uint8Array | undefined> {
    return bytesOrUndefined(await this.#lookupKeyAsync(key, prefix, cf));
  }

  /** The value of `key` under `prefix` as the caches hold it (a scalar or bytes); see {@link #lookup}. */
  #lookupKey(key: unknown, prefix: Uint8Array, cf: string): CachedValue | undefined {
    this.#assertStatus('getBytes');
    this.#resolve(key, prefix);
    return this.#lookup(cf, this.#memoKeyId, this.#memoStoredKey);
  }

  /** {@link #lookupKey}, falling back to the database. */
  #lookupKeyAsync(key: unknown, prefix: Uint8Array, cf: string): Promise<CachedValue | undefined> {
    this.#assertStatus('getBytes');
    this.#resolve(key, prefix);
    return this.#lookupAsync(cf, this.#memoKeyId, this.#memoStoredKey);
  }

  /**
   * The JSON-decoded value of `key`, or `defaultValue` when missing or deleted. A stored
   * `null` reads as `null`. Undecodable bytes → {@link StateSerializationError} (the
   * transaction stays usable). Sync; see class docs.
   */
  get(key: unknown, prefix: Uint8Array, defaultValue?: unknown, cf: string = DEFAULT_CF): unknown {
    const value = this.#lookupKey(key, prefix, cf);
    return value === undefined ? defaultValue : decoded(value);
  }

  /** Like {@link get}, falling back to the database. */
  async getAsync(
    key: unknown,
    prefix: Uint8Array,
    defaultValue?: unknown,
    cf: string = DEFAULT_CF,
  ): Promise<unknown> {
    const value = await this.#lookupKeyAsync(key, prefix, cf);
    return value === undefined ? defaultValue : decoded(value);
  }

  /**
   * Like {@link get} when this transaction can answer without the database (the key was
   * written, read or preloaded in it); {@link NOT_CACHED} instead of throwing
   * {@link StateKeyNotLoadedError} when it cannot. For a caller with an async fallback
   * that mostly hits: no promise when it does.
   */
  peek(key: unknown, prefix: Uint8Array, defaultValue?: unknown, cf: string = DEFAULT_CF): unknown {
    this.#assertStatus('getBytes');
    this.#resolve(key, prefix);
    const value = this.#cachedValue(cf, this.#memoKeyId);
    if (value === NOT_CACHED) return NOT_CACHED;
    return value === undefined ? defaultValue : decoded(value);
  }

  /** True if `key` is set (in this transaction or stored) and not deleted here. Sync; see class docs. */
  exists(key: unknown, prefix: Uint8Array, cf: string = DEFAULT_CF): boolean {
    this.#assertStatus('exists');
    return this.getBytes(key, prefix, cf) !== undefined;
  }

  /** Like {@link exists}, falling back to the database. */
  async existsAsync(key: unknown, prefix: Uint8Array, cf: string = DEFAULT_CF): Promise<boolean> {
    this.#assertStatus('exists');
    return (await this.getBytesAsync(key, prefix, cf)) !== undefined;
  }

  // ---- keyed writes --------------------------------------------------------

  /**
   * Sets `key` to `JSON(value)`; it never expires (replacing a TTL written before). A
   * serialization failure marks the transaction FAILED.
   */
  set(key: unknown, value: unknown, prefix: Uint8Array, cf: string = DEFAULT_CF): void {
    this.#writeKey('set', key, prefix, cf, value, cacheableJson, undefined);
  }

  /** Sets `key` to raw bytes; a non-`Uint8Array` value → {@link StateSerializationError}, transaction FAILED. */
  setBytes(key: unknown, value: Uint8Array, prefix: Uint8Array, cf: string = DEFAULT_CF): void {
    this.#writeKey('setBytes', key, prefix, cf, value, checkedBytes, undefined);
  }

  /**
   * Sets `key` (default family) to `JSON(value)`, expiring at `expiresAtMs`: from a clock
   * of `expiresAtMs` on it reads as missing, and a later checkpoint deletes it. An
   * expiry that is not a non-negative safe integer marks the transaction FAILED.
   */
  setExpiring(key: unknown, value: unknown, prefix: Uint8Array, expiresAtMs: number): void {
    this.#writeKey('set', key, prefix, DEFAULT_CF, value, cacheableJson, expiresAtMs);
  }

  /** {@link setExpiring} with raw bytes. */
  setBytesExpiring(key: unknown, value: Uint8Array, prefix: Uint8Array, expiresAtMs: number): void {
    this.#writeKey('setBytes', key, prefix, DEFAULT_CF, value, checkedBytes, expiresAtMs);
  }

  /**
   * The keyed writes' one path, as {@link #mutate} without its closure: `set` runs once or
   * more per record, and a closure per call was the largest allocation the state layer
   * made on the count job's hot path. The value is checked after the key resolves, and the
   * expiry after the value, as callers have always seen the errors.
   */
  #writeKey<V>(operation: string, key: unknown, prefix: Uint8Array, cf: string, value: V, encode: (value: V) => CachedValue, expiresAtMs: number | undefined): void {
    this.#assertStatus(operation);
    try {
      this.#resolve(key, prefix);
      this.#write(cf, encode(value), expiresAtMs === undefined ? undefined : checkedExpiry(key, expiresAtMs));
    } catch (error) {
      this.#status = 'FAILED';
      throw error;
    }
  }

  // ---- savepoints -----------------------------------------------------------

  /** Start journaling writes so {@link rollbackToSavepoint} can undo them (one record's writes). */
  setSavepoint(): void {
    this.#cache.setSavepoint();
    this.#ttl.setSavepoint();
  }

  /** True while a savepoint is set: writes from now on may be rolled back. */
  get inSavepoint(): boolean {
    return this.#cache.hasSavepoint;
  }

  /** Keep the writes since the savepoint. */
  releaseSavepoint(): void {
    this.#cache.releaseSavepoint();
    this.#ttl.releaseSavepoint();
  }

  /** Undo the writes since the savepoint (keyed writes and their expiries). */
  rollbackToSavepoint(): void {
    this.#cache.rollbackToSavepoint();
    this.#ttl.rollbackToSavepoint();
  }

  /** Caches a write of the resolved key; `expiresAtMs` undefined = never expires. */
  #write(cf: string, value: CachedValue, expiresAtMs: number | undefined): void {
    const keyId = this.#memoKeyId;
    this.#cache.set(cf, this.#memoPrefix!.length, keyId, value);
    this.#forgetRead(cf, keyId);
    this.#ttl.noteWrite(cf, keyId, expiresAtMs);
  }

  /**
   * Drops the read of a key this transaction has written: the write cache answers for it
   * from now on, and a transaction holds every key it touches until its checkpoint, so one
   * entry per key instead of two is the job's memory. Kept inside a savepoint, where a
   * rollback brings the read back into use.
   */
  #forgetRead(cf: string, keyId: string): void {
    if (!this.#cache.hasSavepoint) this.#reads.get(cf)?.delete(keyId);
  }

  /** Deletes `key` (a missing key is fine). A key serialization failure marks the transaction FAILED. */
  delete(key: unknown, prefix: Uint8Array, cf: string = DEFAULT_CF): void {
    this.#mutate('delete', () => {
      this.#resolve(key, prefix);
      this.#cache.delete(cf, this.#memoKeyId);
      this.#forgetRead(cf, this.#memoKeyId);
      this.#ttl.noteDelete(cf, this.#memoKeyId);
    });
  }

  // ---- range reads ---------------------------------------------------------

  /**
   * Stored entries of `cf` in `[lower, upper)` merged with this transaction's cached
   * updates of the `prefix` bucket, or of every bucket without `prefix` (cache wins; keys
   * deleted here removed), sorted by key bytes, descending when `backwards` (docs/semantics.md §3.3).
   * Stored keys and values as they are (in TTL mode default-family values keep their stamp).
   */
  async getRange(options: TransactionRangeOptions = {}): Promise<[Uint8Array, Uint8Array][]> {
    this.#assertStatus('getRange');
    const cf = options.cf ?? DEFAULT_CF;
    const lowerId = options.lower === undefined ? undefined : byteKeyId(options.lower);
    const upperId = options.upper === undefined ? undefined : byteKeyId(options.upper);
    await this.#predecessorSettled();
    const deletes = this.#cache.deletes(cf);
    const merged = new Map<string, [Uint8Array, Uint8Array]>();
    for (const entry of await this.#partition.getItems({ lower: options.lower, upper: options.upper, cf })) {
      const id = byteKeyId(entry[0]);
      if (!deletes.has(id)) merged.set(id, entry);
    }
    const updates = options.prefix === undefined ? this.#cache.updates(cf) : this.#cache.prefixUpdates(cf, byteKeyId(options.prefix));
    for (const [id, update] of updates) {
      if (lowerId !== undefined && id < lowerId) continue;
      if (upperId !== undefined && id >= upperId) continue;
      merged.set(id, [keyFromId(id), cachedBytes(update.value)]);
    }
    // latin1 ids compare exactly like the key bytes.
    const ids = [...merged.keys()].sort();
    if (options.backwards === true) ids.reverse();
    return ids.map((id) => merged.get(id)!);
  }

  /**
   * Entries with keys `prefix|BE64(start)` (inclusive) to `prefix|BE64(end)` (exclusive),
   * merged with the cache as in {@link getRange}. `start` is clamped to ≥ 0; empty if
   * `start > end`.
   */
  async getItems(
    start: number,
    end: number,
    prefix: Uint8Array,
    backwards = false,
    cf: string = DEFAULT_CF,
  ): Promise<[Uint8Array, Uint8Array][]> {
    this.#assertStatus('getItems');
    const from = Math.max(start, 0);
    if (from > end) return [];
    return this.getRange({ prefix, lower: appendInteger(prefix, from), upper: appendInteger(prefix, end), backwards, cf });
  }

  // ---- global counter ------------------------------------------------------

  /**
   * The next value of the partition's global counter (0 on a fresh partition; after
   * 2^64-1 it wraps to 0). It is persisted at `prepare` (or `flush` without prepare),
   * so it is visible to later transactions only after this one completes.
   */
  nextGlobalCounter(): bigint {
    return this.#mutate('nextGlobalCounter', () => {
      let current = this.#counter;
      if (current === undefined) {
        const stored = this.#partition.getSync(GLOBAL_COUNTER_KEY, GLOBAL_COUNTER_CF);
        current = stored === undefined ? -1n : parseCounter(stored);
      }
      const next = current >= BE64_MAX ? 0n : current + 1n;
      this.#counter = next;
      return next;
    });
  }

  #persistCounter(): void {
    if (this.#counter === undefined) return;
    const value = Buffer.from(this.#counter.toString(), 'latin1'); // JSON(int), full 64-bit range
    this.#cache.set(GLOBAL_COUNTER_CF, 0, GLOBAL_COUNTER_KEY_ID, value);
  }

  // ---- checkpoint ----------------------------------------------------------

  /**
   * Moves to PREPARED and returns the changelog records for the caller to produce: for
   * every column family except the local-only ones, one record per updated key (last
   * value) then one tombstone per deleted key, with headers `__column_family__` and
   * `__processed_tp_offsets__` = `JSON(processedOffsets)` (`null` when unknown), read
   * from the cache when encoded (see {@link TransactionChangelog}). Without a changelog,
   * returns an empty one. Any failure marks the transaction FAILED.
   */
  async prepare(processedOffsets: ProcessedOffsets | null = null): Promise<TransactionChangelog> {
    this.#assertStatus('prepare');
    // Reads end here; what the predecessor wrote is flushed before this transaction is.
    this.#predecessor = undefined;
    try {
      // Scalars stay scalars: the changelog's encoding (sliced, beside the worker's queue)
      // or the flush turns them into bytes, not the cut, which holds the queue.
      this.#persistCounter();
      await this.#applyTtl();
      const changelog = this.#partition.hasChangelog ? TransactionChangelog.of(this.#cache, processedOffsets, this.#partition.ttlEnabled) : TransactionChangelog.EMPTY;
      this.#status = 'PREPARED';
      return changelog;
    } catch (error) {
      this.#status = 'FAILED';
      throw error;
    }
  }

  /** TTL stamping and sweep (see {@link TransactionTtl.apply}), after the previous checkpoint's flush. */
  async #applyTtl(): Promise<void> {
    if (!this.#ttl.needsApply()) return;
    await this.#predecessorSettled();
    await this.#ttl.apply(this.#cache);
  }

  /**
   * Writes the cache (all column families) and, when given, `changelogOffset` in one
   * atomic batch, then moves to COMPLETE. An empty cache writes nothing at all. An
   * offset lower than the stored one → {@link InvalidChangelogOffsetError}. Allowed in
   * STARTED (nothing produced) or PREPARED; any failure marks the transaction FAILED.
   */
  async flush(changelogOffset?: number): Promise<void> {
    this.#assertStatus('flush', true);
    try {
      if (this.#status === 'STARTED') {
        this.#persistCounter();
        await this.#applyTtl();
      }
      if (!this.#cache.isEmpty()) {
        if (changelogOffset !== undefined) {
          const stored = this.#partition.getChangelogOffset();
          if (stored !== undefined && changelogOffset < stored) {
            throw new InvalidChangelogOffsetError(this.#partition.path, changelogOffset, stored);
          }
        }
        await this.#partition.write(this.#cache, changelogOffset);
      }
      this.#status = 'COMPLETE';
    } catch (error) {
      this.#status = 'FAILED';
      throw error;
    }
  }
}

/**
 * `value` as the write cache keeps it: a string, boolean or finite number as itself (its
 * JSON is made at the checkpoint, and it reads back as itself, as it would from its
 * JSON; -0 becomes 0, as its JSON `0` reads), anything else as its JSON bytes now, so a
 * value that cannot be serialized fails the write that gave it.
 */
function cacheableJson(value: unknown): CachedValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value)) return value === 0 ? 0 : value;
      break;
    default:
      break;
  }
  return encodeJson(value);
}

/** A cached or stored value as the user sees it: bytes decoded, a cached scalar as itself. */
function decoded(value: CachedValue): unknown {
  return typeof value === 'object' ? decodeJson(value) : value;
}

function bytesOrUndefined(value: CachedValue | undefined): Uint8Array | undefined {
  return value === undefined ? undefined : cachedBytes(value);
}

function checkedBytes(value: Uint8Array): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new StateSerializationError(`setBytes needs a Uint8Array value, got ${typeof value}`);
  return value;
}

function checkedExpiry(key: unknown, expiresAtMs: number): number {
  if (!Number.isSafeInteger(expiresAtMs) || expiresAtMs < 0) throw new InvalidTtlError(key, expiresAtMs);
  return expiresAtMs;
}

function parseCounter(bytes: Uint8Array): bigint {
  const text = Buffer.from(bytes).toString('latin1');
  if (!/^\d+$/.test(text)) throw new StateSerializationError(`Invalid global counter value ${JSON.stringify(text)}`);
  return BigInt(text);
}
