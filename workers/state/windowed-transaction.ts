/**
 * Windowed state over one {@link PartitionTransaction} (Quix Streams'
 * WindowedRocksDBTransaction, docs/semantics.md §7.1): windows keyed `prefix|BE64(start)|BE64(end)`
 * in `default`, collected values in `__values__`, and the per-key indexes (latest
 * timestamp, expiration, deletion, value deletion). Everything goes through the
 * transaction, so it is cached, changelogged and flushed like any other state.
 *
 * Prefix = the serialized message key. Reads fall back to the database (async), so
 * the operators never need a preload step.
 */
import { decodeJson, decodeBE64Number, INT_PAIR_LENGTH, joinPrefixedKey, parseWindowKey } from '../../shared/codecs/index.js';
import { byteKeyId } from './byte-key-id.js';
import type { ProcessedOffsets } from './changelog-record.js';
import type { TransactionChangelog } from './transaction-changelog.js';
import { DEFAULT_CF } from './column-families.js';
import { NOT_CACHED, type PartitionTransaction } from './partition-transaction.js';
import { InvalidTimestampError, InvalidWindowDurationError } from '../../shared/errors/window-errors.js';
import {
  CLOSED_THROUGH_KEY,
  DELETED_START_KEY,
  DELETION_INDEX_CF,
  EXPIRATION_INDEX_CF,
  EXPIRED_START_KEY,
  LATEST_TIMESTAMP_KEY,
  LATEST_TIMESTAMPS_CF,
  pairUserKey,
  VALUE_DELETED_KEY,
  VALUE_DELETION_INDEX_CF,
  VALUES_CF,
} from './window-keys.js';

/** One stored window. */
export interface StoredWindow {
  readonly start: number;
  readonly end: number;
  readonly value: unknown;
  readonly prefix: Uint8Array;
}

/** A window handed out by an expiry: its value and (when collecting) its collected values. */
export interface ExpiredWindow extends StoredWindow {
  readonly collected: unknown[];
}

/** Options of {@link WindowedTransaction.expireWindows}. */
export interface ExpireOptions {
  /** Delete the expired windows once the iteration completes (default true). */
  readonly delete?: boolean;
  /** Read collected values for each window and delete the ones below the newest expired start (default false). */
  readonly collect?: boolean;
  /** Collected values with ids in `[start, end]` instead of `[start, end)` (sliding windows). */
  readonly endInclusive?: boolean;
}

const EMPTY = new Uint8Array(0);
const RESOLVED: Promise<void> = Promise.resolve();

/** A window's event time must be a non-negative safe integer: {@link InvalidTimestampError} otherwise. */
export function checkWindowTimestamp(timestamp: number): void {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new InvalidTimestampError(timestamp);
}

function checkDuration(start: number, end: number): void {
  if (!(end > start)) throw new InvalidWindowDurationError(start, end);
}

/**
 * One window of a loaded prefix, and its pending write. Mutable, so a window updated by
 * many records of a checkpoint costs no new object per update; readers get snapshots
 * ({@link StoredWindow}), never slots.
 */
interface Slot {
  readonly owner: LoadedPrefix;
  readonly start: number;
  readonly end: number;
  /** The prefix bytes of the latest write (or of the load). */
  prefix: Uint8Array;
  value: unknown;
  /** The pending write is a delete (the slot is then in {@link LoadedPrefix.removed}, not in `slots`). */
  deleted: boolean;
  /** Has a pending write (is in {@link WindowedTransaction.#order}). */
  queued: boolean;
  /**
   * Set by a write that created the window after its prefix was loaded, so neither the
   * store nor this checkpoint's transaction holds its key; cleared by the write-back. A
   * fresh window deleted before the write-back needs no tombstone: it is dropped (left in
   * neither `slots` nor `removed`, and skipped in {@link WindowedTransaction.#order}).
   */
  fresh: boolean;
  /** The next removed slot of the same start (sliding and session windows). */
  nextRemoved: Slot | undefined;
}

/** One loaded prefix: its live windows, and the windows deleted since the last write-back. */
interface LoadedPrefix {
  readonly id: string;
  /** Live windows sorted by (start, end). */
  readonly slots: Slot[];
  /**
   * start → windows deleted since the last write-back (a chain by `nextRemoved`), so a
   * window re-created in the same checkpoint keeps its one pending write.
   */
  readonly removed: Map<number, Slot>;
}

/** A slot's mutable fields, as a savepoint found them. */
type SlotFields = readonly [slot: Slot, prefix: Uint8Array, value: unknown, deleted: boolean, queued: boolean, fresh: boolean, nextRemoved: Slot | undefined];

/** A loaded prefix as it was before its first write inside a savepoint. */
interface PrefixBackup {
  readonly slots: Slot[];
  readonly removed: Map<number, Slot>;
  readonly fields: SlotFields[];
}

function backupOf(loaded: LoadedPrefix): PrefixBackup {
  const fields: SlotFields[] = [];
  const keep = (slot: Slot): void => {
    fields.push([slot, slot.prefix, slot.value, slot.deleted, slot.queued, slot.fresh, slot.nextRemoved]);
  };
  for (const slot of loaded.slots) keep(slot);
  for (const first of loaded.removed.values()) {
    for (let slot: Slot | undefined = first; slot !== undefined; slot = slot.nextRemoved) keep(slot);
  }
  return { slots: [...loaded.slots], removed: new Map(loaded.removed), fields };
}

function restore(loaded: LoadedPrefix, backup: PrefixBackup): void {
  loaded.slots.length = 0;
  for (const slot of backup.slots) loaded.slots.push(slot);
  loaded.removed.clear();
  for (const [start, slot] of backup.removed) loaded.removed.set(start, slot);
  for (const [slot, prefix, value, deleted, queued, fresh, nextRemoved] of backup.fields) {
    slot.prefix = prefix;
    slot.value = value;
    slot.deleted = deleted;
    slot.queued = queued;
    slot.fresh = fresh;
    slot.nextRemoved = nextRemoved;
  }
}

/** Whether `slot` sorts before window `(start, end)` (slots are sorted by start, then end). */
const sortsBefore = (slot: Slot, start: number, end: number): boolean => slot.start < start || (slot.start === start && slot.end < end);

/** Index of the first slot in `slots` (sorted by start, end) not before `(start, end)`. */
function lowerBound(slots: readonly Slot[], start: number, end: number): number {
  let lo = 0;
  let hi = slots.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sortsBefore(slots[mid]!, start, end)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The slot of window `(start, end)` if it is at `at` (its {@link lowerBound}), else undefined. */
function slotAt(slots: readonly Slot[], at: number, start: number, end: number): Slot | undefined {
  const slot = slots[at];
  return slot !== undefined && slot.start === start && slot.end === end ? slot : undefined;
}

/** Takes the removed slot `(start, end)` out of `loaded.removed`, if there. */
function takeRemoved(loaded: LoadedPrefix, start: number, end: number): Slot | undefined {
  if (loaded.removed.size === 0) return undefined;
  let previous: Slot | undefined;
  let slot = loaded.removed.get(start);
  while (slot !== undefined && slot.end !== end) {
    previous = slot;
    slot = slot.nextRemoved;
  }
  if (slot === undefined) return undefined;
  if (previous !== undefined) previous.nextRemoved = slot.nextRemoved;
  else if (slot.nextRemoved !== undefined) loaded.removed.set(start, slot.nextRemoved);
  else loaded.removed.delete(start);
  slot.nextRemoved = undefined;
  return slot;
}

function addRemoved(loaded: LoadedPrefix, slot: Slot): void {
  slot.nextRemoved = loaded.removed.get(slot.start);
  loaded.removed.set(slot.start, slot);
}

// Not `{ ...window, collected }`: a spread is slow on this per-record path.
const expiredWindow = (w: StoredWindow, collected: unknown[]): ExpiredWindow => ({ start: w.start, end: w.end, value: w.value, prefix: w.prefix, collected });

const snapshot = (slot: Slot): StoredWindow => ({ start: slot.start, end: slot.end, value: slot.value, prefix: slot.prefix });

/** Snapshots of the slots with `startFrom < start <= startTo`, ascending (descending when `backwards`). */
function windowsIn(slots: readonly Slot[], startFrom: number, startTo: number, backwards: boolean): StoredWindow[] {
  const found: StoredWindow[] = [];
  for (let at = lowerBound(slots, Math.max(startFrom + 1, 0), 0); at < slots.length && slots[at]!.start <= startTo; at++) {
    found.push(snapshot(slots[at]!));
  }
  return backwards ? found.reverse() : found;
}

/**
 * A prefix's clock (latest timestamp) or expiration index, held as a number once read or
 * written through a {@link WindowedTransaction}: every record reads and moves both, and
 * through the transaction each access encodes the stored key and (de)serializes JSON.
 */
interface HeldNumber {
  readonly kind: HeldKind;
  readonly prefix: Uint8Array;
  /** The value; `undefined` when the key has none. */
  value: number | undefined;
  /**
   * Written to the transaction in this checkpoint, outside a savepoint: the key has its
   * place in the changelog, which a later write of the same key keeps, so later values
   * can wait for {@link WindowedTransaction.writeBack} (`pending`).
   */
  written: boolean;
  /** `value` is newer than the transaction's (it is in the pending list). */
  pending: boolean;
}

/** Which held key: its user key and column family, and the held numbers by prefix id. */
interface HeldKind {
  readonly key: Uint8Array;
  readonly cf: string;
  readonly byPrefix: Map<string, HeldNumber>;
}

/**
 * See the module comment.
 *
 * Window reads of a key are served from memory after the first one: the first
 * `getWindows` of a prefix loads all its windows (one range scan, database merged with
 * the cache), and every later window write or delete through this object keeps that
 * list current. So use one instance per transaction, and write windows only through it.
 */
export class WindowedTransaction {
  /** prefix id → the prefix's windows, once loaded. */
  readonly #loaded = new Map<string, LoadedPrefix>();
  /**
   * Windows of loaded prefixes with a write not yet handed to the transaction, in the
   * order of each window's first write since the last {@link writeBack} (the order the
   * changelog lists them in): a window updated by many records of a checkpoint is
   * serialized once. An update finds its window by binary search in its prefix's slots,
   * so it builds no string key.
   */
  #order: Slot[] = [];
  /**
   * Dropped slots (fresh, then deleted) still in {@link #order}: it is compacted when they
   * are most of it, so a checkpoint of short-lived windows (hopping windows at full speed:
   * one per record) does not hold every window it created until the write-back.
   */
  #dropped = 0;
  /**
   * The last prefix asked about (by identity) and its id: a record's window updates reuse
   * one prefix array, so its latin1 id is computed once per record, not once per window.
   * Prefix bytes are never mutated once handed in (they are record keys).
   */
  #memoPrefix: Uint8Array | undefined;
  #memoPrefixId = '';
  /**
   * Clocks and expiration indexes (see {@link HeldNumber}). A rollback must undo what a
   * record wrote, so inside a savepoint they are written through and not held, and
   * {@link writeBackHeld} must run before a savepoint is set.
   */
  readonly #clocks: HeldKind = { key: LATEST_TIMESTAMP_KEY, cf: LATEST_TIMESTAMPS_CF, byPrefix: new Map() };
  readonly #expiries: HeldKind = { key: EXPIRED_START_KEY, cf: EXPIRATION_INDEX_CF, byPrefix: new Map() };
  /** Held numbers newer than the transaction's, written by {@link writeBackHeld}. */
  #pendingHeld: HeldNumber[] = [];
  /**
   * While a savepoint is set (see {@link setSavepoint}): the length of {@link #order} then,
   * and each loaded prefix as it was before its first write since.
   */
  #savepoint: { readonly orderLength: number; readonly backups: Map<LoadedPrefix, PrefixBackup> } | undefined;

  constructor(readonly transaction: PartitionTransaction) {}

  #idOf(prefix: Uint8Array): string {
    if (prefix !== this.#memoPrefix) {
      this.#memoPrefixId = byteKeyId(prefix);
      this.#memoPrefix = prefix;
    }
    return this.#memoPrefixId;
  }

  /**
   * Hands the pending window writes to the transaction. Call before preparing or
   * flushing the transaction yourself ({@link prepare} does it).
   */
  writeBack(): void {
    this.writeBackHeld();
    const order = this.#order;
    if (order.length === 0) return;
    for (const w of order) {
      if (w.deleted && w.fresh) continue; // created and deleted since the load: nothing to undo
      const key = pairUserKey(w.prefix, w.start, w.end);
      if (w.deleted) this.transaction.delete(key, w.prefix, DEFAULT_CF);
      else this.transaction.set(key, w.value, w.prefix, DEFAULT_CF);
    }
    for (const w of order) {
      w.queued = false;
      w.fresh = false;
      if (w.owner.removed.size > 0) w.owner.removed.clear();
    }
    this.#order = [];
    this.#dropped = 0;
  }

  /** Counts a dropped slot and compacts {@link #order} when they are most of it. */
  #drop(): void {
    this.#dropped++;
    this.#compactOrder();
  }

  /**
   * Drops the dropped slots from {@link #order} once they are most of it; never inside a
   * savepoint, which holds its length (a record under the skip or dead-letter policy runs in
   * one: its release compacts instead).
   */
  #compactOrder(): void {
    if (this.#dropped < 1024 || this.#dropped * 2 < this.#order.length || this.#savepoint !== undefined) return;
    this.#order = this.#order.filter((slot) => !(slot.fresh && slot.deleted));
    this.#dropped = 0;
  }

  /**
   * Sets a savepoint with the transaction's (the caller sets that one): a rollback undoes
   * the window writes made since, which live in the loaded prefixes' slots until the
   * write-back, not in the transaction. Held clocks go to the transaction first.
   */
  setSavepoint(): void {
    this.writeBackHeld();
    this.#savepoint = { orderLength: this.#order.length, backups: new Map() };
  }

  releaseSavepoint(): void {
    this.#savepoint = undefined;
    this.#compactOrder();
  }

  /** Undoes the window writes since {@link setSavepoint} (the transaction rolls back its own). */
  rollbackToSavepoint(): void {
    const savepoint = this.#savepoint;
    if (savepoint === undefined) return;
    this.#savepoint = undefined;
    for (let i = savepoint.orderLength; i < this.#order.length; i++) this.#order[i]!.queued = false;
    this.#order.length = savepoint.orderLength;
    for (const [loaded, backup] of savepoint.backups) restore(loaded, backup);
  }

  /**
   * Hands the held clocks and expiration indexes newer than the transaction's to it
   * ({@link writeBack} does it too). Call before setting a savepoint on the transaction,
   * so a rollback cannot undo them.
   */
  writeBackHeld(): void {
    const pending = this.#pendingHeld;
    if (pending.length === 0) return;
    for (const held of pending) {
      held.pending = false;
      this.transaction.set(held.kind.key, held.value, held.prefix, held.kind.cf);
    }
    this.#pendingHeld = [];
  }

  /**
   * The held number of `prefix`, read from the transaction (and held) the first time:
   * a value without a promise when it is held or cached, as on every record but a key's
   * first. Inside a savepoint a read is not held (a rollback could make it stale).
   */
  #getHeld(kind: HeldKind, prefix: Uint8Array): number | undefined | Promise<number | undefined> {
    const known = this.#peekHeld(kind, prefix);
    if (known !== NOT_CACHED) return known;
    const prefixId = this.#idOf(prefix);
    return this.transaction.getAsync(kind.key, prefix, undefined, kind.cf).then((value) => this.#hold(kind, prefix, prefixId, value));
  }

  /** {@link #getHeld} when it needs no read (held or cached); NOT_CACHED when it would. */
  #peekHeld(kind: HeldKind, prefix: Uint8Array): number | undefined | typeof NOT_CACHED {
    const prefixId = this.#idOf(prefix);
    const held = kind.byPrefix.get(prefixId);
    if (held !== undefined) return held.value;
    const value = this.transaction.peek(kind.key, prefix, undefined, kind.cf);
    return value === NOT_CACHED ? value : this.#hold(kind, prefix, prefixId, value);
  }

  /** Holds a number just read from the transaction (unless a write held one meanwhile, or a savepoint is set). */
  #hold(kind: HeldKind, prefix: Uint8Array, prefixId: string, value: unknown): number | undefined {
    const raced = kind.byPrefix.get(prefixId); // held by a write while the database was read
    if (raced !== undefined) return raced.value;
    const read = value as number | undefined;
    if (!this.transaction.inSavepoint) kind.byPrefix.set(prefixId, { kind, prefix, value: read, written: false, pending: false });
    return read;
  }

  /**
   * For a caller that works without promises when it can: whether the windows, clock and
   * expiration index of `prefix` are in memory (loaded, held or cached), so
   * {@link loadedWindow}, {@link latestTimestampNow}, {@link advanceLatestTimestampNow} and
   * {@link expireLoadedNow} answer without the database.
   */
  isInMemory(prefix: Uint8Array): boolean {
    return this.#loaded.has(this.#idOf(prefix)) && this.#peekHeld(this.#clocks, prefix) !== NOT_CACHED && this.#peekHeld(this.#expiries, prefix) !== NOT_CACHED;
  }

  /** {@link getLatestTimestamp} of a prefix {@link isInMemory} says is in memory. */
  latestTimestampNow(prefix: Uint8Array): number {
    const known = this.#peekHeld(this.#clocks, prefix);
    if (known === NOT_CACHED) throw new Error('latestTimestampNow: the clock of this prefix is not in memory (check isInMemory first)');
    return known ?? 0;
  }

  /**
   * Sets the held number of `prefix`: through the transaction on its first write in this
   * checkpoint (the changelog order is that of the first writes) and inside savepoints,
   * else held until {@link writeBackHeld}.
   */
  #setHeld(kind: HeldKind, prefix: Uint8Array, value: number): void {
    const prefixId = this.#idOf(prefix);
    if (this.transaction.inSavepoint) {
      kind.byPrefix.delete(prefixId); // a rollback would leave it stale; the next read goes to the transaction
      this.transaction.set(kind.key, value, prefix, kind.cf);
      return;
    }
    let held = kind.byPrefix.get(prefixId);
    if (held === undefined) {
      held = { kind, prefix, value, written: false, pending: false };
      kind.byPrefix.set(prefixId, held);
    }
    held.value = value;
    if (!held.written) {
      this.transaction.set(kind.key, value, prefix, kind.cf);
      held.written = true;
    } else if (!held.pending) {
      held.pending = true;
      this.#pendingHeld.push(held);
    }
  }

  /** {@link writeBack}, then prepares the transaction. */
  async prepare(processedOffsets: ProcessedOffsets | null = null): Promise<TransactionChangelog> {
    this.writeBack();
    return this.transaction.prepare(processedOffsets);
  }

  /**
   * Loads the latest timestamps and expiration indexes of `prefixes` with one engine
   * call per column family, so a batch of records does not wait for one read per key.
   */
  async preload(prefixes: readonly Uint8Array[]): Promise<void> {
    const unique = new Map<string, Uint8Array>();
    for (const prefix of prefixes) {
      const id = byteKeyId(prefix);
      // Clock and index held: the prefix was read in this transaction, after its preload, so
      // the transaction caches the rest (preloading again would only rebuild its keys).
      if (!(this.#clocks.byPrefix.has(id) && this.#expiries.byPrefix.has(id))) unique.set(id, prefix);
    }
    if (unique.size === 0) return;
    const keysOf = (key: Uint8Array): Uint8Array[] => [...unique.values()].map((p) => joinPrefixedKey(p, key));
    await Promise.all([
      this.transaction.preload([...keysOf(LATEST_TIMESTAMP_KEY), ...keysOf(CLOSED_THROUGH_KEY)], LATEST_TIMESTAMPS_CF),
      this.transaction.preload(keysOf(EXPIRED_START_KEY), EXPIRATION_INDEX_CF),
    ]);
  }

  #queue(slot: Slot): void {
    if (!slot.queued) {
      slot.queued = true;
      this.#order.push(slot);
    }
  }

  /** Writes or deletes a window: in memory for a loaded prefix, else straight to the transaction. */
  #write(prefix: Uint8Array, start: number, end: number, value: unknown, deleted: boolean): void {
    const prefixId = this.#idOf(prefix);
    const loaded = this.#loaded.get(prefixId);
    if (loaded === undefined) {
      const key = pairUserKey(prefix, start, end);
      if (deleted) this.transaction.delete(key, prefix, DEFAULT_CF);
      else this.transaction.set(key, value, prefix, DEFAULT_CF);
      return;
    }
    this.#backUp(loaded);
    this.#writeLoaded(loaded, lowerBound(loaded.slots, start, end), prefix, start, end, value, deleted);
  }

  /** Keeps `loaded` as it is for the savepoint, before its first write inside one. */
  #backUp(loaded: LoadedPrefix): void {
    const savepoint = this.#savepoint;
    if (savepoint !== undefined && !savepoint.backups.has(loaded)) savepoint.backups.set(loaded, backupOf(loaded));
  }

  /** {@link #write} to a loaded prefix, `at` being `lowerBound(loaded.slots, start, end)`. */
  #writeLoaded(loaded: LoadedPrefix, at: number, prefix: Uint8Array, start: number, end: number, value: unknown, deleted: boolean): void {
    const slots = loaded.slots;
    const live = slotAt(slots, at, start, end);
    if (live !== undefined) {
      live.prefix = prefix;
      if (deleted) {
        if (at === 0) slots.shift();
        else slots.splice(at, 1);
        live.value = undefined;
        live.deleted = true;
        if (live.fresh) {
          // Nothing to write: a re-creation starts a fresh window of its own.
          if (live.queued) this.#drop();
          return;
        }
        addRemoved(loaded, live);
      } else {
        live.value = value;
      }
      this.#queue(live);
      return;
    }
    // Not live: deleted in this checkpoint (pending delete), or never seen.
    let slot = takeRemoved(loaded, start, end);
    if (slot === undefined) {
      // Never seen since the load: absent from the store and the transaction.
      slot = { owner: loaded, start, end, prefix, value: undefined, deleted: true, queued: false, fresh: !deleted, nextRemoved: undefined };
    } else {
      slot.prefix = prefix;
    }
    if (deleted) {
      addRemoved(loaded, slot); // a delete of a missing window still writes a tombstone
    } else {
      slot.value = value;
      slot.deleted = false;
      if (at === slots.length) slots.push(slot); // the common case: a new newest window
      else slots.splice(at, 0, slot);
    }
    this.#queue(slot);
  }

  async #slotsOf(prefix: Uint8Array): Promise<Slot[]> {
    const id = this.#idOf(prefix);
    const loaded = this.#loaded.get(id);
    if (loaded !== undefined) return loaded.slots;
    const items = await this.transaction.getItems(0, Number.MAX_SAFE_INTEGER, prefix);
    const owner: LoadedPrefix = { id, slots: [], removed: new Map() };
    for (const [key, value] of items) {
      const parsed = parseWindowKey(key);
      owner.slots.push({
        owner,
        start: parsed.start,
        end: parsed.end,
        prefix,
        value: decodeJson(value),
        deleted: false,
        queued: false,
        fresh: false,
        nextRemoved: undefined,
      });
    }
    // A concurrent load of the same prefix may have finished first: keep that one.
    const raced = this.#loaded.get(id);
    if (raced !== undefined) return raced.slots;
    this.#loaded.set(id, owner);
    return owner.slots;
  }

  // ---- windows -------------------------------------------------------------

  /** The value of window `[start, end)` of `prefix`, or `defaultValue`. */
  async getWindow(start: number, end: number, prefix: Uint8Array, defaultValue?: unknown): Promise<unknown> {
    checkDuration(start, end);
    const loaded = this.#loaded.get(this.#idOf(prefix));
    if (loaded === undefined) return this.transaction.getAsync(pairUserKey(prefix, start, end), prefix, defaultValue);
    const found = slotAt(loaded.slots, lowerBound(loaded.slots, start, end), start, end);
    return found !== undefined ? found.value : defaultValue;
  }

  /**
   * Sets the window's value and advances the prefix's latest timestamp to
   * `max(latest, timestamp)` (never backwards).
   */
  async updateWindow(
    start: number,
    end: number,
    value: unknown,
    timestamp: number,
    prefix: Uint8Array,
    options: { readonly allowPoint?: boolean } = {},
  ): Promise<void> {
    checkWindowTimestamp(timestamp);
    // Sliding windows have inclusive ends: a record at time 0 has the window [0, 0].
    if (!(options.allowPoint === true && start === end)) checkDuration(start, end);
    this.#write(prefix, start, end, value, false);
    await this.advanceLatestTimestamp(timestamp, prefix);
  }

  /**
   * Sets the window's value without reading or moving the prefix's clock: for a caller
   * that already moved it to at least this record's time in this transaction (with
   * {@link updateWindow} or {@link advanceLatestTimestamp}), where advancing it again
   * would only read it back.
   */
  setWindow(start: number, end: number, value: unknown, prefix: Uint8Array): void {
    checkDuration(start, end);
    this.#write(prefix, start, end, value, false);
  }

  /**
   * For a prefix {@link isInMemory} says is in memory: sets the windows `[start, start +
   * duration)` for `start` from `firstStart` to `lastStart` by `step`, in that order, each to
   * `update(its value or undefined, start, end)`, as {@link loadedWindow} and
   * {@link setWindow} would window by window, in one pass over the prefix's windows. An
   * `update` that throws leaves its window and the later ones as they were.
   */
  updateLoadedWindows(
    prefix: Uint8Array,
    firstStart: number,
    lastStart: number,
    step: number,
    duration: number,
    update: (value: unknown, start: number, end: number) => unknown,
  ): void {
    const loaded = this.#loaded.get(this.#idOf(prefix));
    if (loaded === undefined) throw new Error('updateLoadedWindows: the windows of this prefix are not loaded (call loadWindows first)');
    if (firstStart > lastStart) return;
    checkDuration(firstStart, firstStart + duration);
    if (!(step > 0)) throw new InvalidWindowDurationError(firstStart, firstStart + step);
    this.#backUp(loaded);
    const slots = loaded.slots;
    let at = lowerBound(slots, firstStart, firstStart + duration);
    for (let start = firstStart; start <= lastStart; start += step) {
      const end = start + duration;
      // Slots are sorted by (start, end) and the windows come in ascending order: scan on.
      while (at < slots.length && sortsBefore(slots[at]!, start, end)) at++;
      this.#writeLoaded(loaded, at, prefix, start, end, update(slotAt(slots, at, start, end)?.value, start, end), false);
      at++; // the window just written is at `at`
    }
  }

  /**
   * Moves the prefix's latest timestamp (its event-time clock) to `timestamp` unless it is
   * already later. `latest`: the clock as the caller read it ({@link getLatestTimestamp})
   * with nothing moving it since, so it need not be read again.
   */
  advanceLatestTimestamp(timestamp: number, prefix: Uint8Array, latest?: number): Promise<void> {
    if (latest === undefined) return this.getLatestTimestamp(prefix).then((current) => this.advanceLatestTimestampNow(timestamp, prefix, current));
    // Known clock (every record of a time window): no async frame.
    try {
      this.advanceLatestTimestampNow(timestamp, prefix, latest);
      return RESOLVED;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** {@link advanceLatestTimestamp} with the clock `latest` as the caller read it: synchronous. */
  advanceLatestTimestampNow(timestamp: number, prefix: Uint8Array, latest: number): void {
    if (timestamp > latest) this.#setHeld(this.#clocks, prefix, timestamp);
  }

  /**
   * Every prefix (serialized message key) with an entry in the store's default column
   * family whose key `isEntry` accepts, once each, in key order. `suffixLength` bytes
   * after the prefix's separator are the entry's own key (window keys: 16).
   */
  async prefixesWith(suffixLength: number, isEntry: (key: Uint8Array) => boolean = () => true): Promise<Uint8Array[]> {
    this.writeBack(); // the scan reads the transaction
    const found = new Map<string, Uint8Array>();
    for (const [key] of await this.transaction.getRange({ cf: DEFAULT_CF })) {
      if (key.length < suffixLength || !isEntry(key)) continue;
      // An empty prefix stores the bare key (`joinPrefixedKey`), or `|pair` for windows.
      const prefix = key.length <= suffixLength + 1 ? EMPTY : key.slice(0, key.length - suffixLength - 1);
      const id = byteKeyId(prefix);
      if (!found.has(id)) found.set(id, prefix);
    }
    return [...found.values()];
  }

  /** Every prefix with at least one stored window (end of input: closing every window). */
  async windowPrefixes(): Promise<Uint8Array[]> {
    return this.prefixesWith(INT_PAIR_LENGTH, (key) => {
      try {
        parseWindowKey(key);
        return true;
      } catch {
        return false;
      }
    });
  }

  /** Deletes the window (a tombstone on the changelog). */
  deleteWindow(start: number, end: number, prefix: Uint8Array): void {
    checkDuration(start, end);
    this.#delete(start, end, prefix);
  }

  /** Deletes a window found in storage (no duration check: sliding windows may be points). */
  #delete(start: number, end: number, prefix: Uint8Array): void {
    this.#write(prefix, start, end, undefined, true);
  }

  /** Latest event time seen for `prefix` by {@link updateWindow}, 0 if none. */
  getLatestTimestamp(prefix: Uint8Array): Promise<number> {
    let held: number | undefined | Promise<number | undefined>;
    try {
      held = this.#getHeld(this.#clocks, prefix);
    } catch (error) {
      return Promise.reject(error);
    }
    // Held or cached (all but a key's first read from the database): no async frame.
    return held instanceof Promise ? held.then((value) => value ?? 0) : Promise.resolve(held ?? 0);
  }

  /** Start of the newest expired window of `prefix` (expiration index), 0 if none. */
  async getLatestExpired(prefix: Uint8Array): Promise<number> {
    const held = this.#getHeld(this.#expiries, prefix);
    return (held instanceof Promise ? await held : held) ?? 0;
  }

  /**
   * Loads the windows of `prefix` as the first {@link getWindows} of it does, so
   * {@link loadedWindow} can answer; resolved at once when they are loaded.
   */
  loadWindows(prefix: Uint8Array): Promise<void> {
    if (this.#loaded.has(this.#idOf(prefix))) return RESOLVED;
    return this.#slotsOf(prefix).then(() => undefined);
  }

  /**
   * The value of window `[start, end)` of a prefix loaded by {@link loadWindows} (or any
   * {@link getWindows}), `undefined` when it has none; synchronous, and without the
   * snapshots getWindows builds. Throws when the prefix is not loaded.
   */
  loadedWindow(start: number, end: number, prefix: Uint8Array): unknown {
    const loaded = this.#loaded.get(this.#idOf(prefix));
    if (loaded === undefined) throw new Error('loadedWindow: the windows of this prefix are not loaded (call loadWindows first)');
    return slotAt(loaded.slots, lowerBound(loaded.slots, start, end), start, end)?.value;
  }

  /**
   * Windows of `prefix` with `startFrom < start <= startTo`, cache merged over the
   * database (deleted ones excluded), by (start, end) ascending (descending when `backwards`).
   */
  getWindows(startFrom: number, startTo: number, prefix: Uint8Array, backwards = false): Promise<StoredWindow[]> {
    // Loaded (every read after a prefix's first): answered without an async frame.
    const loaded = this.#loaded.get(this.#idOf(prefix));
    if (loaded !== undefined) return Promise.resolve(windowsIn(loaded.slots, startFrom, startTo, backwards));
    return this.#slotsOf(prefix).then((slots) => windowsIn(slots, startFrom, startTo, backwards));
  }

  /**
   * Expires the windows of `prefix` with `lastExpired < start <= maxStartTime`
   * (`lastExpired` from the expiration index, else −1). Lazy and exactly once: nothing
   * happens until iteration starts; then the index moves to the newest expired start
   * (so a second call with the same bound yields nothing), the windows are yielded in
   * ascending order, and once the iteration completes they are deleted (`delete`) and,
   * when `collect`, collected values with ids below the newest expired start too.
   */
  async *expireWindows(maxStartTime: number, prefix: Uint8Array, options: ExpireOptions = {}): AsyncGenerator<ExpiredWindow> {
    const windows = await this.#startExpiry(maxStartTime, prefix);
    if (windows.length === 0) return;
    for (const window of windows) yield await this.#withCollected(window, prefix, options);
    await this.#finishExpiry(windows, prefix, options);
  }

  /**
   * {@link expireWindows} run to completion, without a generator: the same reads and
   * writes in the same order (the index moves, collected values are read window by
   * window, then the windows and, when `collect`, the collected values below the newest
   * expired start are deleted), returning the expired windows. For a caller that reads
   * nothing between the windows that these deletes would change.
   */
  expireWindowsNow(maxStartTime: number, prefix: Uint8Array, options: ExpireOptions = {}): Promise<ExpiredWindow[]> {
    // The common case (every record of a time window): index held or cached, windows
    // loaded, nothing collected. The same steps without async frames or snapshots.
    try {
      const expired = this.expireLoadedNow(maxStartTime, prefix, options);
      if (expired !== undefined) return Promise.resolve(expired);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#expireWindowsNow(maxStartTime, prefix, options);
  }

  /**
   * {@link expireWindowsNow} when it needs neither the database nor collected values (the
   * prefix {@link isInMemory}, `collect` not set): synchronous; `undefined` (and nothing
   * done) otherwise.
   */
  expireLoadedNow(maxStartTime: number, prefix: Uint8Array, options: ExpireOptions = {}): ExpiredWindow[] | undefined {
    const loaded = options.collect === true ? undefined : this.#loaded.get(this.#idOf(prefix));
    if (loaded === undefined) return undefined;
    const stored = this.#peekHeld(this.#expiries, prefix);
    if (stored === NOT_CACHED) return undefined;
    return this.#expireLoaded(loaded, stored ?? -1, maxStartTime, prefix, options);
  }

  /** {@link expireWindowsNow} for a loaded prefix without collected values, its index read: `lastExpired < start <= maxStartTime`. */
  #expireLoaded(loaded: LoadedPrefix, lastExpired: number, maxStartTime: number, prefix: Uint8Array, options: ExpireOptions): ExpiredWindow[] {
    const slots = loaded.slots;
    const out: ExpiredWindow[] = [];
    for (let at = lowerBound(slots, Math.max(lastExpired + 1, 0), 0); at < slots.length && slots[at]!.start <= maxStartTime; at++) {
      const slot = slots[at]!;
      out.push({ start: slot.start, end: slot.end, value: slot.value, prefix: slot.prefix, collected: [] });
    }
    if (out.length === 0) return out;
    this.#setHeld(this.#expiries, prefix, out[out.length - 1]!.start);
    this.#finishExpiry(out, prefix, options); // no promise: nothing collected
    return out;
  }

  async #expireWindowsNow(maxStartTime: number, prefix: Uint8Array, options: ExpireOptions): Promise<ExpiredWindow[]> {
    const windows = await this.#startExpiry(maxStartTime, prefix);
    const out: ExpiredWindow[] = [];
    if (windows.length === 0) return out;
    for (const window of windows) {
      const expired = this.#withCollected(window, prefix, options);
      out.push(expired instanceof Promise ? await expired : expired); // no await when nothing is collected
    }
    const finished = this.#finishExpiry(windows, prefix, options);
    if (finished !== undefined) await finished;
    return out;
  }

  /** The windows of `prefix` expiring up to `maxStartTime` (after the last expiry), with the expiration index moved past them. */
  async #startExpiry(maxStartTime: number, prefix: Uint8Array): Promise<StoredWindow[]> {
    const held = this.#getHeld(this.#expiries, prefix);
    const stored = held instanceof Promise ? await held : held;
    const windows = await this.getWindows(stored ?? -1, maxStartTime, prefix);
    if (windows.length > 0) this.#setHeld(this.#expiries, prefix, windows[windows.length - 1]!.start);
    return windows;
  }

  /** The window with its collected values (none unless `collect`: then without a promise). */
  #withCollected(window: StoredWindow, prefix: Uint8Array, options: ExpireOptions): ExpiredWindow | Promise<ExpiredWindow> {
    if (options.collect !== true) return expiredWindow(window, []);
    const end = options.endInclusive === true ? window.end + 1 : window.end;
    return this.getFromCollection(window.start, end, prefix).then((collected) => expiredWindow(window, collected));
  }

  /**
   * Deletes the expired windows (unless `delete: false`) and, when collecting, the
   * collected values below the newest (only then a promise: the common case has no await).
   */
  #finishExpiry(windows: readonly StoredWindow[], prefix: Uint8Array, options: ExpireOptions): Promise<void> | undefined {
    if (options.delete === false) return undefined;
    for (const window of windows) this.#delete(window.start, window.end, prefix);
    return options.collect === true ? this.deleteFromCollection(windows[windows.length - 1]!.start, prefix) : undefined;
  }

  /**
   * Partition-wide expiry for the "partition" closing strategy (docs/semantics.md §7.3), with this
   * port's decision on Quix Streams' quirks: the partition marker (bare
   * `__expired_start_gt__`) holds the last `maxEndTime` scanned, and every window of
   * any key with `marker < end <= maxEndTime` expires, so non-aligned hopping ends are
   * found too. `isCandidateEnd(from, to)` tells whether any window end can lie in
   * `(from, to]`; when it cannot, nothing is scanned and the marker stays (cheap on
   * most records). Windows are yielded in key order, then deleted (with their
   * collected values below their start when `collect`).
   */
  async *expireAllWindows(
    maxEndTime: number,
    isCandidateEnd: (from: number, to: number) => boolean,
    options: Omit<ExpireOptions, 'endInclusive'> = {},
  ): AsyncGenerator<ExpiredWindow> {
    const marker = await this.getPartitionExpiredEnd();
    if (marker !== undefined && (maxEndTime <= marker || !isCandidateEnd(marker, maxEndTime))) return;
    this.writeBack(); // the scan below reads the transaction
    const from = marker ?? -1;
    const expired: StoredWindow[] = [];
    for (const [key, value] of await this.transaction.getRange({ cf: DEFAULT_CF })) {
      if (key.length < INT_PAIR_LENGTH + 1) continue;
      const end = decodeBE64Number(key, key.length - 8);
      if (end <= from || end > maxEndTime) continue;
      const parsed = parseWindowKey(key);
      expired.push({ start: parsed.start, end: parsed.end, value: decodeJson(value), prefix: parsed.prefix });
    }
    this.#setHeld(this.#expiries, EMPTY, maxEndTime);
    for (const window of expired) {
      const collected = options.collect === true ? await this.getFromCollection(window.start, window.end, window.prefix) : [];
      yield { ...window, collected };
    }
    if (options.delete !== false) {
      for (const window of expired) {
        this.#delete(window.start, window.end, window.prefix);
        if (options.collect === true) await this.deleteFromCollection(window.start, window.prefix);
      }
    }
  }

  /** The partition-wide expiry marker (a window end), if any. */
  async getPartitionExpiredEnd(): Promise<number | undefined> {
    const held = this.#getHeld(this.#expiries, EMPTY);
    return held instanceof Promise ? await held : held;
  }

  /**
   * Deletes windows of `prefix` with `lastDeleted < start <= maxStartTime` (deletion
   * index, else −1) and stores the newest deleted start in the index (also when it is
   * 0: Quix Streams skips 0, which only makes the next call rescan). With
   * `deleteValues`, also deletes collected values with ids below `maxStartTime`.
   */
  async deleteWindows(maxStartTime: number, deleteValues: boolean, prefix: Uint8Array): Promise<void> {
    const stored = (await this.transaction.getAsync(DELETED_START_KEY, prefix, undefined, DELETION_INDEX_CF)) as number | undefined;
    const windows = await this.getWindows(stored ?? -1, maxStartTime, prefix);
    for (const window of windows) this.#delete(window.start, window.end, prefix);
    if (windows.length > 0) this.transaction.set(DELETED_START_KEY, windows[windows.length - 1]!.start, prefix, DELETION_INDEX_CF);
    if (deleteValues) await this.deleteFromCollection(maxStartTime, prefix);
  }

  // ---- collections ---------------------------------------------------------

  /**
   * Adds `value` to the prefix's collection under `(id, counter)` with the partition's
   * next global counter (so equal ids never collide); `id` undefined uses the counter.
   * Returns the counter.
   */
  addToCollection(value: unknown, id: number | undefined, prefix: Uint8Array): bigint {
    const counter = this.transaction.nextGlobalCounter();
    this.transaction.set(pairUserKey(prefix, id ?? counter, counter), value, prefix, VALUES_CF);
    return counter;
  }

  /**
   * Collected values with ids in `[start, end)`, ascending by (id, counter); with
   * `counters`, only those whose counter (see {@link addToCollection}) is above `after`
   * and below `before`.
   */
  async getFromCollection(
    start: number,
    end: number,
    prefix: Uint8Array,
    counters: { readonly after?: number | undefined; readonly before?: number | undefined } = {},
  ): Promise<unknown[]> {
    const items = await this.transaction.getItems(start, end, prefix, false, VALUES_CF);
    const { after, before } = counters;
    if (after === undefined && before === undefined) return items.map(([, value]) => decodeJson(value));
    return items
      .filter(([key]) => {
        const counter = decodeBE64Number(key, key.length - 8);
        return (after === undefined || counter > after) && (before === undefined || counter < before);
      })
      .map(([, value]) => decodeJson(value));
  }

  /**
   * Deletes collected values with ids in `[start, end)`; `start` defaults to the last
   * deleted id from the value-deletion index (else 0). Stores the newest deleted id.
   */
  async deleteFromCollection(end: number, prefix: Uint8Array, start?: number): Promise<void> {
    const from = start ?? (((await this.transaction.getAsync(VALUE_DELETED_KEY, prefix, 0, VALUE_DELETION_INDEX_CF)) as number) ?? 0);
    const items = await this.transaction.getItems(from, end, prefix, false, VALUES_CF);
    if (items.length === 0) return;
    let maxId = from;
    for (const [key] of items) {
      const id = decodeBE64Number(key, key.length - INT_PAIR_LENGTH);
      if (id > maxId) maxId = id;
      this.transaction.delete(key.subarray(prefix.length === 0 ? 0 : prefix.length + 1), prefix, VALUES_CF);
    }
    this.transaction.set(VALUE_DELETED_KEY, maxId, prefix, VALUE_DELETION_INDEX_CF);
  }
}
