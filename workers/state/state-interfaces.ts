/**
 * The contracts between the three layers of partition state, so each depends on an
 * interface here rather than on the next one's class: a {@link StateView} on the keyed
 * operations of a transaction ({@link KeyedStateTransaction}), a transaction on the
 * storage of its partition ({@link TransactionStorage}). `StorePartition` creates
 * `PartitionTransaction`s, which create `StateView`s; no arrow points back.
 */
import type { TransactionCache } from './transaction-cache.js';

/** Bounds and direction of a range read; `lower` inclusive, `upper` exclusive. */
export interface RangeOptions {
  readonly lower?: Uint8Array;
  readonly upper?: Uint8Array;
  /** Descending key order. Default false. */
  readonly backwards?: boolean;
  readonly cf?: string;
}

/**
 * What a transaction reads from and writes to: one store partition's database
 * (implemented by `StorePartition`). Keys are stored keys (`prefix|key`) of a column family.
 */
export interface TransactionStorage {
  /** Directory of the partition's database (for error messages). */
  readonly path: string;
  /** Whether `prepare` produces changelog records. */
  readonly hasChangelog: boolean;
  /** Most expired keys one checkpoint deletes. */
  readonly ttlMaxEvictionsPerCheckpoint: number;
  /** True once default-family values are stored stamped with their expiry. */
  readonly ttlEnabled: boolean;
  /** The TTL clock carried over between transactions. */
  readonly ttlHighWaterMs: number;
  /** Advances the in-memory TTL clock (never backwards). */
  noteTtlHighWater(ms: number): void;
  /** Switches the partition into TTL mode; no-op when already in it. */
  enableTtl(): Promise<void>;
  get(key: Uint8Array, cf?: string): Promise<Uint8Array | undefined>;
  getMany(keys: readonly Uint8Array[], cf?: string): Promise<(Uint8Array | undefined)[]>;
  getSync(key: Uint8Array, cf?: string): Uint8Array | undefined;
  iterItems(options?: RangeOptions): AsyncIterable<[Uint8Array, Uint8Array]>;
  getItems(options?: RangeOptions): Promise<[Uint8Array, Uint8Array][]>;
  /** Offset of the last changelog record the database reflects; `undefined` before the first. */
  getChangelogOffset(): number | undefined;
  /** Writes a transaction's cache and, when given, the changelog offset, in one atomic batch. */
  write(cache: TransactionCache, changelogOffset?: number): Promise<void>;
}

/**
 * The keyed reads and writes of a transaction, as a `StateView` uses them (implemented by
 * `PartitionTransaction`, which documents each). Keys: a `Uint8Array` verbatim, anything
 * else compact JSON, stored as `prefix|key`.
 */
export interface KeyedStateTransaction {
  /** Advances the TTL clock to a record's timestamp (never backwards). */
  observeTimestamp(timestampMs: number): void;
  /** Loads stored keys (`prefix|key`) of `cf` so the synchronous reads can answer. */
  preload(keys: readonly Uint8Array[], cf?: string): Promise<void>;
  get(key: unknown, prefix: Uint8Array, defaultValue?: unknown, cf?: string): unknown;
  getAsync(key: unknown, prefix: Uint8Array, defaultValue?: unknown, cf?: string): Promise<unknown>;
  getBytes(key: unknown, prefix: Uint8Array, cf?: string): Uint8Array | undefined;
  getBytesAsync(key: unknown, prefix: Uint8Array, cf?: string): Promise<Uint8Array | undefined>;
  exists(key: unknown, prefix: Uint8Array, cf?: string): boolean;
  existsAsync(key: unknown, prefix: Uint8Array, cf?: string): Promise<boolean>;
  set(key: unknown, value: unknown, prefix: Uint8Array, cf?: string): void;
  setBytes(key: unknown, value: Uint8Array, prefix: Uint8Array, cf?: string): void;
  /** Default-family write that expires at `expiresAtMs` (epoch ms). */
  setExpiring(key: unknown, value: unknown, prefix: Uint8Array, expiresAtMs: number): void;
  setBytesExpiring(key: unknown, value: Uint8Array, prefix: Uint8Array, expiresAtMs: number): void;
  delete(key: unknown, prefix: Uint8Array, cf?: string): void;
}
