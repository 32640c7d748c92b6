import { WeirError } from './weir-error.js';

/**
 * Typed errors of the state subsystem (docs/semantics.md §9). Each class is one failure a caller
 * can act on and carries the context needed to act on it.
 */

/** A store was looked up that was never registered for the stream id. */
export class StoreNotRegisteredError extends WeirError {
  constructor(
    readonly storeName: string,
    readonly streamId: string | null,
  ) {
    super(
      'STORE_NOT_REGISTERED',
      `Store "${storeName}" is not registered for stream ${streamId === null ? '(none)' : `"${streamId}"`}`,
    );
  }
}

/** A windowed or timestamped store name is registered twice for one stream id. */
export class StoreAlreadyRegisteredError extends WeirError {
  constructor(
    readonly storeName: string,
    readonly streamId: string | null,
  ) {
    super(
      'STORE_ALREADY_REGISTERED',
      `Store "${storeName}" is already registered for stream ${streamId === null ? '(none)' : `"${streamId}"`}; give it a unique name`,
    );
  }
}

/** A transaction was requested for a partition the store does not hold. */
export class PartitionNotAssignedError extends WeirError {
  constructor(
    readonly storeName: string,
    readonly partition: number,
  ) {
    super('PARTITION_NOT_ASSIGNED', `Store "${storeName}": partition ${partition} is not assigned`);
  }
}

/** State was to be cleared while store partitions are still assigned. */
export class PartitionStoreInUseError extends WeirError {
  constructor(readonly assigned: readonly string[]) {
    super(
      'PARTITION_STORE_IN_USE',
      `Cannot clear stores with active partitions assigned: ${assigned.join(', ')}`,
    );
  }
}

/** A transaction operation was called in a status that does not allow it (§3.2). */
export class StateTransactionError extends WeirError {
  constructor(
    readonly operation: string,
    readonly status: string,
  ) {
    super('STATE_TRANSACTION', `Invalid transaction status "${status}" for operation "${operation}"`);
  }
}

/** A key or value could not be serialized or deserialized. */
export class StateSerializationError extends WeirError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STATE_SERIALIZATION', message, options);
  }
}

/** `flush` was given a changelog offset lower than the one already stored. */
export class InvalidChangelogOffsetError extends WeirError {
  constructor(
    readonly path: string,
    readonly requested: number,
    readonly stored: number,
  ) {
    super(
      'INVALID_CHANGELOG_OFFSET',
      `Cannot set changelog offset lower than already saved one (store "${path}": requested ${requested}, stored ${stored})`,
    );
  }
}

/** A replayed changelog record has no `__column_family__` header. */
export class ColumnFamilyHeaderMissingError extends WeirError {
  constructor(
    readonly path: string,
    readonly offset: number,
  ) {
    super(
      'COLUMN_FAMILY_HEADER_MISSING',
      `Changelog record at offset ${offset} for store "${path}" has no "__column_family__" header`,
    );
  }
}

/** A replayed changelog record has a key or value of the wrong type. */
export class InvalidChangelogRecordError extends WeirError {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super('INVALID_CHANGELOG_RECORD', `${message} (changelog offset ${offset})`);
  }
}

/** A replayed record names a source topic that has no committed offset (§5.4 step 3). */
export class RecoveryCommittedOffsetMissingError extends WeirError {
  constructor(
    readonly topic: string,
    readonly offset: number,
  ) {
    super(
      'RECOVERY_COMMITTED_OFFSET_MISSING',
      `Changelog record at offset ${offset} names source topic "${topic}" which has no committed offset`,
    );
  }
}

/** The store directory stayed locked by another owner through every open attempt. */
export class StoreLockedError extends WeirError {
  constructor(
    readonly path: string,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(
      'STORE_LOCKED',
      `State store "${path}" is locked: another owner (process or thread) holds it; gave up after ${attempts} attempt(s)`,
      options,
    );
  }
}

/**
 * What happened to (or is to be done with) a corrupted store partition:
 * - `recreated`: weir deleted it; it is rebuilt from its changelog when it is next opened;
 * - `recreate-disabled`: it has a changelog but `state.onCorruptedRecreate` is false;
 * - `no-changelog`: it has no changelog (`state.changelog: false`), so its state cannot be rebuilt;
 * - `not-repaired`: opened for inspection (`weir state dump`), which never deletes anything.
 */
export type CorruptedStoreResolution = 'recreated' | 'recreate-disabled' | 'no-changelog' | 'not-repaired';

/** Where a corrupted store partition is: its directory and, when known, its store and partition. */
export interface StoreLocation {
  readonly path: string;
  readonly store?: string;
  readonly partition?: number;
}

function describeLocation(location: StoreLocation): string {
  const named = location.store === undefined ? 'state store' : `state store "${location.store}"`;
  const partition = location.partition === undefined ? '' : ` partition ${location.partition}`;
  return `${named}${partition} at ${location.path}`;
}

const RESOLUTIONS: Readonly<Record<CorruptedStoreResolution, string>> = {
  recreated: 'weir deleted it, and it is rebuilt from its changelog when the partition is next assigned (restart the job)',
  'recreate-disabled':
    'state.onCorruptedRecreate is false, so weir leaves it alone: set state.onCorruptedRecreate to true to have it rebuilt from its changelog, ' +
    'or delete it with "weir state clear"',
  'no-changelog':
    'the store has no changelog (state.changelog is false), so it cannot be rebuilt: delete it with "weir state clear" (its state is lost) ' +
    'and turn state.changelog on to make state recoverable',
  'not-repaired':
    'delete it with "weir state clear"; the next run rebuilds it from its changelog ' +
    '(with state.onCorruptedRecreate true, the next run also does so by itself)',
};

/**
 * A store partition's database is damaged: LevelDB reported corruption, a table file is
 * missing or truncated, or a read of it failed. `resolution` says whether weir deleted it
 * (to be rebuilt from the changelog) or what the user has to do.
 */
export class StoreCorruptedError extends WeirError {
  readonly path: string;
  readonly store: string | undefined;
  readonly partition: number | undefined;
  readonly resolution: CorruptedStoreResolution;
  /** The engine's own description of the damage. */
  readonly reason: string;

  constructor(location: StoreLocation, reason: string, resolution: CorruptedStoreResolution, options?: { cause?: unknown }) {
    super('STORE_CORRUPTED', `${describeLocation(location)} is corrupted (${reason}); ${RESOLUTIONS[resolution]}`, options);
    this.path = location.path;
    this.store = location.store;
    this.partition = location.partition;
    this.resolution = resolution;
    this.reason = reason;
  }
}

/**
 * A store partition directory holds LevelDB data files but no `CURRENT` file (the file
 * naming the live manifest). Opening it anyway would create a new, empty database and
 * delete the old tables, so weir refuses.
 */
export class StoreCurrentFileMissingError extends WeirError {
  readonly path: string;
  readonly store: string | undefined;
  readonly partition: number | undefined;

  constructor(location: StoreLocation) {
    super(
      'STORE_CURRENT_MISSING',
      `${describeLocation(location)} holds data but no CURRENT file, so LevelDB would start it empty and delete its tables; ` +
        'restore CURRENT (one line naming the newest MANIFEST-NNNNNN file of the directory) to keep the data, ' +
        'or delete the directory ("weir state clear") to have it rebuilt from its changelog',
    );
    this.path = location.path;
    this.store = location.store;
    this.partition = location.partition;
  }
}

/** A store, timestamped store or window of a pipeline has a store name that cannot be a directory name. */
export class InvalidStoreNameError extends WeirError {
  constructor(
    /** The offending store name (for a window, the name derived from it, e.g. `x_tumbling_window_1000`). */
    readonly storeName: string,
    /** What declared it: a key-value `store`, a `timestamped store`, or a `window`. */
    readonly kind: 'store' | 'timestamped store' | 'window',
    /** The declared name (the window's name for a window; the store name otherwise). */
    readonly declaredName: string,
    rule: string,
  ) {
    const what = kind === 'window' ? `window ${JSON.stringify(declaredName)} has the store name ${JSON.stringify(storeName)}, which` : `${kind} name ${JSON.stringify(storeName)}`;
    super(
      'INVALID_STORE_NAME',
      `${what} cannot be used: a store name is a directory name and part of its changelog topic name, so it must be ${rule}`,
    );
  }
}

/**
 * A state path (`<state.dir>/<appId>`) resolved outside `state.dir` (or to it); nothing
 * is created or deleted there. The config schema refuses such an appId; this guards
 * callers that build a config by hand.
 */
export class StatePathOutsideStateDirError extends WeirError {
  constructor(
    readonly path: string,
    readonly stateDir: string,
  ) {
    super(
      'STATE_PATH_OUTSIDE_STATE_DIR',
      `refusing to touch ${path}: it is not inside the state directory ${stateDir} (check appId and store names)`,
    );
  }
}

/** The open kept failing with a non-lock I/O error through every retry. */
export class StoreOpenFailedError extends WeirError {
  constructor(
    readonly path: string,
    readonly attempts: number,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super('STORE_OPEN_FAILED', `Failed to open state store "${path}" after ${attempts} attempt(s): ${reason}`, options);
  }
}

/** Opening the store was aborted (stop requested) while waiting between lock retries. */
export class StoreOpenAbortedError extends WeirError {
  constructor(readonly path: string) {
    super('STORE_OPEN_ABORTED', `Opening state store "${path}" was aborted`);
  }
}

/** A store partition was used after `close()`. */
export class StorePartitionClosedError extends WeirError {
  constructor(
    readonly path: string,
    readonly operation: string,
  ) {
    super('STORE_PARTITION_CLOSED', `State store partition "${path}" is closed (operation "${operation}")`);
  }
}

/** A column family name cannot be stored (empty or outside printable ASCII). */
export class InvalidColumnFamilyNameError extends WeirError {
  constructor(readonly columnFamily: string) {
    super(
      'INVALID_COLUMN_FAMILY_NAME',
      `Invalid column family name ${JSON.stringify(columnFamily)}: use 1+ ASCII characters between "#" and "~"`,
    );
  }
}

/** A checkpoint found a FAILED transaction and refuses to commit. */
export class StoreTransactionFailedError extends WeirError {
  constructor(readonly path: string) {
    super('STORE_TRANSACTION_FAILED', `A transaction of state store "${path}" failed; the checkpoint cannot commit`);
  }
}

/** A synchronous read hit a key that was neither preloaded nor written in this transaction. */
export class StateKeyNotLoadedError extends WeirError {
  constructor(
    readonly key: Uint8Array,
    readonly columnFamily: string,
  ) {
    super(
      'STATE_KEY_NOT_LOADED',
      `State key ${describeKey(key)} (column family "${columnFamily}") was not preloaded; call preload() with it first or use the async read`,
    );
  }
}

/** The stored changelog offset is at or past the changelog high watermark (§5.2). */
export class InvalidStoreChangelogOffsetError extends WeirError {
  constructor(
    readonly path: string,
    readonly storedOffset: number,
    readonly highWatermark: number,
  ) {
    super(
      'INVALID_STORE_CHANGELOG_OFFSET',
      `The offset in the state store "${path}" (${storedOffset}) is greater than or equal to its respective changelog highwater (${highWatermark}). ` +
        'This can happen if the changelog was deleted (and recreated) but the state store was not. ' +
        'Delete the local state (clear the state directory) and restart.',
    );
  }
}

/** Printable form of a key for messages: text when it is printable ASCII, hex otherwise. */
function describeKey(key: Uint8Array): string {
  const printable = key.every((b) => b >= 0x20 && b < 0x7f);
  return printable ? JSON.stringify(Buffer.from(key).toString('latin1')) : `0x${Buffer.from(key).toString('hex')}`;
}

/** A TTL write with a TTL that is not a positive, finite number of milliseconds (§6.2). */
export class InvalidTtlError extends WeirError {
  constructor(
    readonly key: unknown,
    readonly ttlMs: unknown,
  ) {
    super(
      'INVALID_TTL',
      `The TTL of state key ${safeJson(key)} must be a positive, finite number of milliseconds; got ${safeJson(ttlMs)}`,
    );
  }
}

/** A TTL write without the current record's timestamp, which the expiry is counted from (§6.2). */
export class TtlTimestampMissingError extends WeirError {
  constructor(readonly key: unknown) {
    super(
      'TTL_TIMESTAMP_MISSING',
      `State key ${safeJson(key)} was written with a TTL but the state has no record timestamp to count it from; ` +
        'TTL writes are made through the state of a record being processed',
    );
  }
}

/** A state database whose TTL metadata this version cannot read (§6.2 format version). */
export class IncompatibleStateStoreError extends WeirError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(
      'INCOMPATIBLE_STATE_STORE',
      `The state store "${path}" is incompatible with this version of weir: ${reason}. ` +
        'Delete the local state (weir state clear) and restart: it is rebuilt from the changelog.',
    );
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The state path exists but is not a directory. */
export class StateDirectoryNotADirectoryError extends WeirError {
  constructor(readonly path: string) {
    super('STATE_DIR_NOT_DIRECTORY', `state path ${path} exists but is not a directory`);
  }
}
