import { encodeUserKey, joinPrefixedKey } from '../../shared/codecs/state-keys.js';
import { InvalidTtlError, TtlTimestampMissingError } from '../../shared/errors/state-errors.js';
import type { KeyedStateTransaction } from './state-interfaces.js';
import { DEFAULT_CF } from './column-families.js';

/** Options of a state write. */
export interface StateWriteOptions {
  /**
   * Time to live in milliseconds, counted from the current record's timestamp: once a
   * record at or after `timestamp + ttlMs` is processed, the key reads as missing, and
   * a later checkpoint deletes it (and tombstones it on the changelog). Omitted: never expires.
   */
  readonly ttlMs?: number;
}

/**
 * The user-facing state of one message key (Quix Streams' State): a view bound to one
 * transaction and one prefix (the serialized message key), so keys of different
 * message keys never meet. Keys and values are compact JSON (docs/semantics.md §2.2, §2.3); a
 * `Uint8Array` key is used verbatim.
 *
 * The synchronous reads need the keys preloaded (see {@link preload} and
 * `PartitionTransaction.preload`); the `...Async` reads fall back to the database.
 * Decoded values are not validated against `T`: the type parameter is the caller's claim.
 *
 * Given the timestamp of the record being processed, the view advances the transaction's
 * TTL clock to it and can write with a TTL ({@link StateWriteOptions.ttlMs}).
 */
export class StateView {
  constructor(
    readonly transaction: KeyedStateTransaction,
    readonly prefix: Uint8Array,
    readonly timestampMs?: number,
  ) {
    if (timestampMs !== undefined) transaction.observeTimestamp(timestampMs);
  }

  /** Stored key bytes (`prefix|key`) of a user key, e.g. to preload it. */
  storedKey(key: unknown): Uint8Array {
    return joinPrefixedKey(this.prefix, encodeUserKey(key));
  }

  /** Loads the stored values of `keys` of this message key in one engine call. */
  async preload(keys: readonly unknown[]): Promise<void> {
    await this.transaction.preload(keys.map((key) => this.storedKey(key)));
  }

  /** Decoded value, or `defaultValue` when missing. A stored `null` reads as `null`. */
  get<T = unknown>(key: unknown): T | undefined;
  get<T>(key: unknown, defaultValue: T): T;
  get(key: unknown, defaultValue?: unknown): unknown {
    return this.transaction.get(key, this.prefix, defaultValue, DEFAULT_CF);
  }

  /** Like {@link get}, reading the database when the key was not preloaded. */
  async getAsync<T = unknown>(key: unknown, defaultValue?: T): Promise<T | undefined> {
    return (await this.transaction.getAsync(key, this.prefix, defaultValue, DEFAULT_CF)) as T | undefined;
  }

  /** Raw stored bytes, or `undefined`. */
  getBytes(key: unknown): Uint8Array | undefined {
    return this.transaction.getBytes(key, this.prefix, DEFAULT_CF);
  }

  /** Like {@link getBytes}, reading the database when the key was not preloaded. */
  getBytesAsync(key: unknown): Promise<Uint8Array | undefined> {
    return this.transaction.getBytesAsync(key, this.prefix, DEFAULT_CF);
  }

  /** Sets `key` to `JSON(value)`, with an optional TTL. */
  set(key: unknown, value: unknown, options?: StateWriteOptions): void {
    if (options?.ttlMs === undefined) this.transaction.set(key, value, this.prefix, DEFAULT_CF);
    else this.transaction.setExpiring(key, value, this.prefix, this.#expiry(key, options.ttlMs));
  }

  /** Sets `key` to raw bytes, with an optional TTL. */
  setBytes(key: unknown, value: Uint8Array, options?: StateWriteOptions): void {
    if (options?.ttlMs === undefined) this.transaction.setBytes(key, value, this.prefix, DEFAULT_CF);
    else this.transaction.setBytesExpiring(key, value, this.prefix, this.#expiry(key, options.ttlMs));
  }

  /** `timestamp + ceil(ttlMs)`; checked here so a bad TTL does not fail the transaction. */
  #expiry(key: unknown, ttlMs: number): number {
    if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) throw new InvalidTtlError(key, ttlMs);
    if (this.timestampMs === undefined) throw new TtlTimestampMissingError(key);
    const expiresAt = Math.max(0, this.timestampMs) + Math.ceil(ttlMs);
    if (!Number.isSafeInteger(expiresAt)) throw new InvalidTtlError(key, ttlMs);
    return expiresAt;
  }

  /** Deletes `key`; a missing key is fine. */
  delete(key: unknown): void {
    this.transaction.delete(key, this.prefix, DEFAULT_CF);
  }

  /** True if `key` is set and not deleted. */
  exists(key: unknown): boolean {
    return this.transaction.exists(key, this.prefix, DEFAULT_CF);
  }

  /** Like {@link exists}, reading the database when the key was not preloaded. */
  existsAsync(key: unknown): Promise<boolean> {
    return this.transaction.existsAsync(key, this.prefix, DEFAULT_CF);
  }
}
