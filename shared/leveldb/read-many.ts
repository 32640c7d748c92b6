/**
 * Reading several keys of a classic-level database: a few synchronously, on the caller's
 * thread; more with one `getMany` on libuv's pool.
 *
 * The keys read this way are hot (entries just appended to the log, the state keys a
 * worker's batch misses once warm), so `getSync` finds them in LevelDB's memtable or a fresh
 * table in microseconds. The engine's `getMany` woke a pool thread and then the caller, and
 * queued behind the checkpoints' writes: ~1 ms per call on a 2-core machine, a fifth of a
 * worker's time at 65 k records/s (docs/data-plane.md rule 15). More keys (a cold
 * partition's first batches) still go to the pool, so a read from disk never holds the
 * calling thread for long.
 */

/** Reads of at most this many keys are synchronous. */
export const SYNC_READ_MAX_KEYS = 64;

/** The part of a classic-level database the read needs. */
export interface ManyKeyReader<K, V> {
  getSync(key: K): V | undefined;
  getMany(keys: K[]): Promise<(V | undefined)[]>;
}

/**
 * Values of `keys` in order, `undefined` for missing ones. A synchronous read's failure
 * rejects the returned promise, as `getMany`'s does.
 */
export async function readMany<K, V>(db: ManyKeyReader<K, V>, keys: K[]): Promise<(V | undefined)[]> {
  if (keys.length > SYNC_READ_MAX_KEYS) return db.getMany(keys);
  const values = new Array<V | undefined>(keys.length);
  for (let i = 0; i < keys.length; i++) values[i] = db.getSync(keys[i]!);
  return values;
}
