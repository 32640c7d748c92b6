import { rm } from 'node:fs/promises';
import { ClassicLevel } from 'classic-level';

/** The write batch of a {@link StateDatabase} (abstract-level's chained batch). */
export interface StateBatch {
  readonly length: number;
  put(key: Uint8Array, value: Uint8Array): unknown;
  del(key: Uint8Array): unknown;
  write(): Promise<void>;
  close(): Promise<void>;
}

/** An entry iterator of a {@link StateDatabase}. */
export interface StateIterator {
  nextv(size: number): Promise<[Uint8Array, Uint8Array][]>;
  seek(target: Uint8Array): void;
  close(): Promise<void>;
}

/**
 * The engine behind a store partition: the part of abstract-level's interface used
 * here, with `Uint8Array` keys and values. The default is LevelDB through
 * classic-level; another abstract-level engine can be dropped in through
 * {@link DatabaseFactory}.
 */
export interface StateDatabase {
  readonly status: string;
  open(options?: { createIfMissing?: boolean }): Promise<void>;
  close(): Promise<void>;
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  getMany(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  getSync(key: Uint8Array): Uint8Array | undefined;
  batch(): StateBatch;
  iterator(options: { gte?: Uint8Array; lt?: Uint8Array; reverse?: boolean }): StateIterator;
  keys(options: { gte?: Uint8Array; limit?: number }): { all(): Promise<Uint8Array[]> };
}

/** Creates a (not yet opened) database for a directory; its default key and value encodings must be `view` (Uint8Array). */
export type DatabaseFactory = (path: string) => StateDatabase;

/**
 * LevelDB via classic-level, byte keys and values, tables written without compression:
 * every checkpoint rewrites the keys it changed, and LevelDB's one background thread
 * (shared with the local log) compresses and decompresses them again at each compaction,
 * for values that are mostly a few bytes. Uncompressed it spent ~8 % less (the latency
 * bench at 65 k records/s, BENCHMARKS.md). Kafka Streams' RocksDB stores make the same
 * choice (no compression by default). Tables an earlier weir wrote compressed stay
 * readable: LevelDB marks compression per block.
 */
export const classicLevelFactory: DatabaseFactory = (path) =>
  new ClassicLevel<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view', compression: false });

/** Deletes a database directory and everything in it (no error when absent). */
export async function destroyDatabaseDirectory(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}
