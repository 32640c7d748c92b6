/**
 * The update/delete cache of one transaction (docs/semantics.md §3.1, §2.10): updates bucketed by
 * column family and prefix (so range reads merge only the relevant bucket), deletes
 * per column family. Last write wins; a set removes a pending delete and a delete
 * removes a pending update (leaving its prefix bucket, possibly empty).
 *
 * Keys are addressed by their "id", the latin1 string of the stored key bytes
 * (see {@link byteKeyId}); the bytes themselves are kept for writing.
 */

/** Marker: the key was deleted in this transaction; do not consult the database. */
export const DELETED: unique symbol = Symbol('DELETED');
/** Marker: the key is not in the cache; consult the database. */
export const UNDEFINED: unique symbol = Symbol('UNDEFINED');

/** Result of a cache lookup. */
export type CacheLookup = Uint8Array | typeof DELETED | typeof UNDEFINED;

/** One cached update: stored key bytes and value bytes. */
export interface CachedUpdate {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/** Updates and deletes of one column family. */
interface ColumnFamilyCache {
  /** prefix id → key id → update, in insertion order. */
  readonly updates: Map<string, Map<string, CachedUpdate>>;
  /** key id → stored key bytes, in insertion order. */
  readonly deletes: Map<string, Uint8Array>;
}

/** What a key looked like in the cache before a change made after a savepoint. */
interface UndoEntry {
  readonly cf: string;
  readonly prefixId: string;
  readonly keyId: string;
  readonly update: CachedUpdate | undefined;
  readonly deleted: Uint8Array | undefined;
}

/** See the module comment. */
export class TransactionCache {
  readonly #families = new Map<string, ColumnFamilyCache>();
  #empty = true;
  /** Changes since the savepoint, oldest first; `undefined` when no savepoint is set. */
  #journal: UndoEntry[] | undefined;

  /**
   * Remember the cache as it is, so {@link rollbackToSavepoint} can undo what follows
   * (a record that fails under the skip or dead-letter policy leaves no state behind).
   */
  setSavepoint(): void {
    this.#journal = [];
  }

  /** True between {@link setSavepoint} and its release or rollback. */
  get hasSavepoint(): boolean {
    return this.#journal !== undefined;
  }

  /** Keep the changes since the savepoint and stop journaling. */
  releaseSavepoint(): void {
    this.#journal = undefined;
  }

  /** Undo every change since the savepoint and stop journaling. */
  rollbackToSavepoint(): void {
    const journal = this.#journal;
    this.#journal = undefined;
    if (journal === undefined) return;
    for (let i = journal.length - 1; i >= 0; i--) {
      const { cf, prefixId, keyId, update, deleted } = journal[i]!;
      const family = this.#family(cf);
      let bucket = family.updates.get(prefixId);
      if (update !== undefined) {
        if (bucket === undefined) family.updates.set(prefixId, (bucket = new Map()));
        bucket.set(keyId, update);
      } else {
        bucket?.delete(keyId);
      }
      if (deleted !== undefined) family.deletes.set(keyId, deleted);
      else family.deletes.delete(keyId);
    }
  }

  #remember(cf: string, prefixId: string, keyId: string): void {
    const family = this.#families.get(cf);
    this.#journal!.push({
      cf,
      prefixId,
      keyId,
      update: family?.updates.get(prefixId)?.get(keyId),
      deleted: family?.deletes.get(keyId),
    });
  }

  #family(cf: string): ColumnFamilyCache {
    let family = this.#families.get(cf);
    if (family === undefined) {
      family = { updates: new Map(), deletes: new Map() };
      this.#families.set(cf, family);
    }
    return family;
  }

  /** Records `key = value` in `cf` under the prefix bucket `prefixId`. */
  set(cf: string, prefixId: string, keyId: string, key: Uint8Array, value: Uint8Array): void {
    if (this.#journal !== undefined) this.#remember(cf, prefixId, keyId);
    const family = this.#family(cf);
    let bucket = family.updates.get(prefixId);
    if (bucket === undefined) {
      bucket = new Map();
      family.updates.set(prefixId, bucket);
    }
    bucket.set(keyId, { key, value });
    family.deletes.delete(keyId);
    this.#empty = false;
  }

  /** Records the deletion of `key` in `cf`. */
  delete(cf: string, prefixId: string, keyId: string, key: Uint8Array): void {
    if (this.#journal !== undefined) this.#remember(cf, prefixId, keyId);
    const family = this.#family(cf);
    family.updates.get(prefixId)?.delete(keyId);
    family.deletes.set(keyId, key);
    this.#empty = false;
  }

  /** The cached value, {@link DELETED} or {@link UNDEFINED}. */
  get(cf: string, prefixId: string, keyId: string): CacheLookup {
    const family = this.#families.get(cf);
    if (family === undefined) return UNDEFINED;
    if (family.deletes.has(keyId)) return DELETED;
    const update = family.updates.get(prefixId)?.get(keyId);
    return update === undefined ? UNDEFINED : update.value;
  }

  /** True until the first set or delete. */
  isEmpty(): boolean {
    return this.#empty;
  }

  /** Column families with updates or deletes. */
  columnFamilies(): string[] {
    const names: string[] = [];
    for (const [cf, family] of this.#families) {
      if (family.updates.size > 0 || family.deletes.size > 0) names.push(cf);
    }
    return names;
  }

  /** The update buckets of `cf`: prefix id → key id → update (live view; do not mutate). */
  getUpdates(cf: string): ReadonlyMap<string, ReadonlyMap<string, CachedUpdate>> {
    return this.#families.get(cf)?.updates ?? new Map();
  }

  /** The update bucket of one prefix in `cf` (live view; do not mutate). */
  getPrefixUpdates(cf: string, prefixId: string): ReadonlyMap<string, CachedUpdate> {
    return this.#families.get(cf)?.updates.get(prefixId) ?? new Map();
  }

  /** The deleted keys of `cf`: key id → stored key bytes (live view; do not mutate). */
  getDeletes(cf: string): ReadonlyMap<string, Uint8Array> {
    return this.#families.get(cf)?.deletes ?? new Map();
  }
}
