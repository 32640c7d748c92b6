/**
 * The update/delete cache of one transaction (docs/semantics.md §3.1, §2.10): updates and
 * deletes per column family. Last write wins; a set removes a pending delete and a delete
 * removes a pending update.
 *
 * Keys are addressed by their "id", the latin1 string of the stored key bytes (see
 * `byteKeyId`); the bytes are made again from the id when they are written (`keyFromId`),
 * and a prefix is known by its length, so the cache holds one string and one value per key. A transaction caches every key it
 * writes until its checkpoint, so what it holds per key is most of a job's memory: one map
 * per family, not one per prefix (most prefixes, a message key's state, hold one state
 * key), and the index by prefix that range reads need is built by the first such read.
 *
 * A value is its stored bytes, or a JSON scalar that `PartitionTransaction.set` keeps as
 * itself, to the end: the changelog writes its JSON text, the flush its JSON bytes
 * ({@link cachedBytes}), each where it reads it, and none is kept (a key
 * written on every record (a count, a sum) then costs no allocation per write), and
 * outside a savepoint a key written again updates its entry in place. What survives the worker's
 * young generation until the checkpoint is most of its garbage-collection work.
 */
import { encodeJson } from '../../shared/codecs/json-codec.js';

/** Marker: the key was deleted in this transaction; do not consult the database. */
export const DELETED: unique symbol = Symbol('DELETED');
/** Marker: the key is not in the cache; consult the database. */
export const UNDEFINED: unique symbol = Symbol('UNDEFINED');

/** A cached value: its stored bytes, or a JSON scalar not encoded yet (see the module comment). */
export type CachedValue = Uint8Array | number | string | boolean;

/** Result of a cache lookup. */
export type CacheLookup = CachedValue | typeof DELETED | typeof UNDEFINED;

/** One cached update: how many bytes of its key are the prefix, and the value. */
export interface CachedUpdate {
  readonly prefixLength: number;
  readonly value: CachedValue;
}

/**
 * What one cached key costs beyond its id and value, as an estimate for
 * {@link TransactionCache.heldBytes}: a map entry, an entry object and a string header.
 */
const CACHED_KEY_OVERHEAD_BYTES = 64;

/** The estimated bytes one cached key holds: its id, `valueBytes` and the overhead. */
export function cachedEntrySize(keyId: string, valueBytes: number): number {
  return keyId.length + valueBytes + CACHED_KEY_OVERHEAD_BYTES;
}

/** The bytes a cached value holds, as an estimate (a scalar: a heap number or a string). */
export function cachedValueSize(value: CachedValue): number {
  return typeof value === 'object' ? value.byteLength : typeof value === 'string' ? value.length : 8;
}

/** The stored bytes of a cached value (a scalar's JSON; bytes as they are). */
export function cachedBytes(value: CachedValue): Uint8Array {
  return typeof value === 'object' ? value : encodeJson(value);
}

/** The cache's own entry: updated in place when no savepoint can need its old value. */
interface CacheEntry {
  readonly prefixLength: number;
  value: CachedValue;
}

/** Updates and deletes of one column family. */
interface ColumnFamilyCache {
  /** key id → update, in insertion order. */
  readonly updates: Map<string, CacheEntry>;
  /** ids of deleted keys, in insertion order. */
  readonly deletes: Set<string>;
  /** prefix id → ids of its updated keys; built by the first prefix read, then kept. */
  byPrefix: Map<string, Set<string>> | undefined;
}

/** What a key looked like in the cache before a change made after a savepoint. */
interface UndoEntry {
  readonly cf: string;
  readonly keyId: string;
  readonly update: CacheEntry | undefined;
  readonly deleted: boolean;
}

const NO_UPDATES: ReadonlyMap<string, CachedUpdate> = new Map();
const NO_DELETES: ReadonlySet<string> = new Set();

/** See the module comment. */
export class TransactionCache {
  readonly #families = new Map<string, ColumnFamilyCache>();
  #empty = true;
  #heldBytes = 0;
  /** Changes since the savepoint, oldest first; `undefined` when no savepoint is set. */
  #journal: UndoEntry[] | undefined;

  /**
   * Remember the cache as it is, so {@link rollbackToSavepoint} can undo what follows
   * (a record that fails under the skip or dead-letter policy leaves no state behind).
   */
  setSavepoint(): void {
    this.#journal = [];
  }

  /**
   * An estimate of the memory the cached updates and deletes hold (keys, values and
   * {@link CACHED_KEY_OVERHEAD_BYTES} each), kept as they are written: what bounds a
   * transaction by bytes rather than by the commit interval (docs/data-plane.md, rule 7).
   * It errs high, never low: a replaced update or a rolled-back change still counts.
   */
  get heldBytes(): number {
    return this.#heldBytes;
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
      const { cf, keyId, update, deleted } = journal[i]!;
      const family = this.#family(cf);
      if (update !== undefined) putUpdate(family, keyId, update);
      else removeUpdate(family, keyId);
      if (deleted) family.deletes.add(keyId);
      else family.deletes.delete(keyId);
    }
  }

  #remember(cf: string, keyId: string): void {
    const family = this.#families.get(cf);
    this.#journal!.push({ cf, keyId, update: family?.updates.get(keyId), deleted: family?.deletes.has(keyId) ?? false });
  }

  #family(cf: string): ColumnFamilyCache {
    let family = this.#families.get(cf);
    if (family === undefined) {
      family = { updates: new Map(), deletes: new Set(), byPrefix: undefined };
      this.#families.set(cf, family);
    }
    return family;
  }

  /** Records `key = value` in `cf`; the key's first `prefixLength` bytes are its prefix. */
  set(cf: string, prefixLength: number, keyId: string, value: CachedValue): void {
    const family = this.#family(cf);
    if (this.#journal !== undefined) this.#remember(cf, keyId);
    else {
      const entry = family.updates.get(keyId);
      // A key with an update has no pending delete; only a journal refers to old entries.
      if (entry !== undefined && entry.prefixLength === prefixLength) {
        this.#heldBytes += cachedValueSize(value) - cachedValueSize(entry.value);
        entry.value = value;
        return;
      }
    }
    this.#heldBytes += cachedEntrySize(keyId, cachedValueSize(value));
    putUpdate(family, keyId, { prefixLength, value });
    family.deletes.delete(keyId);
    this.#empty = false;
  }

  /** Records the deletion of the key `keyId` in `cf`. */
  delete(cf: string, keyId: string): void {
    if (this.#journal !== undefined) this.#remember(cf, keyId);
    const family = this.#family(cf);
    removeUpdate(family, keyId);
    if (!family.deletes.has(keyId)) this.#heldBytes += cachedEntrySize(keyId, 0);
    family.deletes.add(keyId);
    this.#empty = false;
  }

  /** The cached value, {@link DELETED} or {@link UNDEFINED}. */
  get(cf: string, keyId: string): CacheLookup {
    const family = this.#families.get(cf);
    if (family === undefined) return UNDEFINED;
    const update = family.updates.get(keyId);
    if (update !== undefined) return update.value;
    return family.deletes.has(keyId) ? DELETED : UNDEFINED;
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

  /** The updates of `cf`: key id → update, in insertion order (live view; do not mutate). */
  updates(cf: string): ReadonlyMap<string, CachedUpdate> {
    return this.#families.get(cf)?.updates ?? NO_UPDATES;
  }

  /** The updates of `cf` whose key has the prefix `prefixId`, as `[key id, update]`. */
  *prefixUpdates(cf: string, prefixId: string): IterableIterator<[string, CachedUpdate]> {
    const family = this.#families.get(cf);
    if (family === undefined) return;
    if (family.byPrefix === undefined) {
      family.byPrefix = new Map();
      for (const [keyId, update] of family.updates) indexUpdate(family.byPrefix, keyId, update.prefixLength);
    }
    for (const keyId of family.byPrefix.get(prefixId) ?? []) yield [keyId, family.updates.get(keyId)!];
  }

  /** The ids of the keys deleted in `cf` (live view; do not mutate). */
  deletes(cf: string): ReadonlySet<string> {
    return this.#families.get(cf)?.deletes ?? NO_DELETES;
  }
}

function putUpdate(family: ColumnFamilyCache, keyId: string, update: CacheEntry): void {
  if (family.byPrefix !== undefined) {
    const previous = family.updates.get(keyId);
    if (previous !== undefined && previous.prefixLength !== update.prefixLength) {
      family.byPrefix.get(keyId.slice(0, previous.prefixLength))?.delete(keyId);
    }
    indexUpdate(family.byPrefix, keyId, update.prefixLength);
  }
  family.updates.set(keyId, update);
}

function removeUpdate(family: ColumnFamilyCache, keyId: string): void {
  const update = family.updates.get(keyId);
  if (update === undefined) return;
  family.updates.delete(keyId);
  family.byPrefix?.get(keyId.slice(0, update.prefixLength))?.delete(keyId);
}

function indexUpdate(byPrefix: Map<string, Set<string>>, keyId: string, prefixLength: number): void {
  const prefixId = keyId.slice(0, prefixLength);
  let ids = byPrefix.get(prefixId);
  if (ids === undefined) byPrefix.set(prefixId, (ids = new Set()));
  ids.add(keyId);
}
