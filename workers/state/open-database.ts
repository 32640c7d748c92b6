import { readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClassicLevel } from 'classic-level';
import {
  StoreCorruptedError,
  StoreCurrentFileMissingError,
  StoreLockedError,
  StoreOpenAbortedError,
  StoreOpenFailedError,
  type CorruptedStoreResolution,
  type StoreLocation,
} from '../../shared/errors/state-errors.js';
import { destroyDatabaseDirectory, type DatabaseFactory, type StateDatabase } from './state-database.js';

/** One retry of a locked (or I/O-failing) open, reported before waiting. */
export interface OpenRetryEvent {
  readonly path: string;
  /** 1-based number of the failed attempt. */
  readonly attempt: number;
  /** Total attempts that will be made (retries + 1). */
  readonly maxAttempts: number;
  readonly backoffMs: number;
  readonly error: unknown;
}

/** The warning line for a retry, e.g. for `onOpenRetry: (e) => console.warn(describeOpenRetry(e))`. */
export function describeOpenRetry(event: OpenRetryEvent): string {
  return (
    `Failed to open state store "${event.path}" (${errorText(event.error)}); another owner (process or thread) may hold it. ` +
    `Retrying in ${event.backoffMs} ms (attempt ${event.attempt}/${event.maxAttempts})`
  );
}

/** How to open a partition database (docs/semantics.md §11.2 open options). */
export interface OpenDatabaseOptions {
  /** Retries after a lock/I/O failure; 0 disables retrying. Default 10. */
  readonly openMaxRetries?: number;
  /** Wait between attempts. Default 3000 ms. */
  readonly openRetryBackoffMs?: number;
  /** Aborting it stops waiting between retries with {@link StoreOpenAbortedError}. */
  readonly signal?: AbortSignal;
  /** Epoch ms after which no further retry is waited for; the lock error is raised instead. */
  readonly openDeadline?: number;
  /** On corruption, destroy and recreate empty when the store has a changelog. Default true. */
  readonly onCorruptedRecreate?: boolean;
  /**
   * Opened to be looked at (`weir state dump`): corruption is reported with the resolution
   * `not-repaired` and nothing is ever deleted. Default false.
   */
  readonly inspectOnly?: boolean;
  /** Store name, for errors (the path names it too, but not as plainly). */
  readonly storeName?: string;
  /** Partition number, for errors. */
  readonly partition?: number;
  /** Engine factory; default LevelDB via classic-level. */
  readonly createDatabase?: DatabaseFactory;
  /** Called before each wait between attempts (e.g. to log a warning). */
  readonly onOpenRetry?: (event: OpenRetryEvent) => void;
  /** Called after a corrupted database was destroyed to be recreated empty. */
  readonly onCorruptedRecreated?: (path: string, error: unknown) => void;
}

/**
 * What a failed engine call means:
 * - `locked`: another handle holds the directory's LOCK;
 * - `corruption`: the data is damaged (LevelDB "Corruption", or an I/O error reading a
 *   file that should be there: missing, truncated);
 * - `resource`: the machine, not the data, is in the way (disk full, too many open
 *   files, permissions): deleting the store would not help;
 * - `io`: another I/O error (on open, retried like a lock: often transient);
 * - `other`: not an engine failure at all.
 */
export type StoreFailure = 'locked' | 'corruption' | 'resource' | 'io' | 'other';

/** Codes and messages of the error and its causes, innermost last. */
function errorChain(error: unknown): { codes: string[]; messages: string[] } {
  const codes: string[] = [];
  const messages: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    const candidate = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof candidate.code === 'string') codes.push(candidate.code);
    if (typeof candidate.message === 'string') messages.push(candidate.message);
    current = candidate.cause;
  }
  return { codes, messages };
}

/** The messages of an error and its causes, joined (classic-level wraps the engine's error). */
export function errorText(error: unknown): string {
  const { messages } = errorChain(error);
  return messages.length > 0 ? messages.join(': ') : String(error);
}

const RESOURCE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE', 'EACCES', 'EPERM', 'EROFS']);
const RESOURCE_MESSAGE = /no space left on device|disk quota exceeded|too many open files|permission denied|read-only file system|operation not permitted/i;

/** Classifies an error raised by the engine (open, read or write); see {@link StoreFailure}. */
export function classifyStoreError(error: unknown): StoreFailure {
  const { codes, messages } = errorChain(error);
  if (codes.includes('LEVEL_LOCKED')) return 'locked';
  if (codes.some((code) => RESOURCE_CODES.has(code)) || messages.some((m) => RESOURCE_MESSAGE.test(m))) return 'resource';
  if (codes.includes('LEVEL_CORRUPTION') || messages.some((m) => /^corruption/i.test(m))) return 'corruption';
  if (codes.includes('LEVEL_IO_ERROR') || messages.some((m) => /^io error/i.test(m))) return 'io';
  return 'other';
}

/**
 * True for a failure of a read or write on an open database that means its files are
 * damaged. Past the open, an I/O error that is not a resource condition comes from a
 * table file that is missing, truncated ("Invalid argument" reading past its end) or
 * unreadable, so it is treated as corruption: retrying reads the same bytes.
 */
export function isStoreDamage(error: unknown): boolean {
  const failure = classifyStoreError(error);
  return failure === 'corruption' || failure === 'io';
}

/**
 * What to do about a damaged partition: `recreate` it (delete and open empty, to be
 * rebuilt from the changelog) or raise the {@link StoreCorruptedError} this returns.
 */
export function corruptionResolution(
  recreateAllowed: boolean,
  options: Pick<OpenDatabaseOptions, 'onCorruptedRecreate' | 'inspectOnly'>,
): CorruptedStoreResolution {
  if (options.inspectOnly === true) return 'not-repaired';
  if (!recreateAllowed) return 'no-changelog';
  return (options.onCorruptedRecreate ?? true) ? 'recreated' : 'recreate-disabled';
}

function locationOf(path: string, options: Pick<OpenDatabaseOptions, 'storeName' | 'partition'>): StoreLocation {
  return {
    path,
    ...(options.storeName === undefined ? {} : { store: options.storeName }),
    ...(options.partition === undefined ? {} : { partition: options.partition }),
  };
}

/** A {@link StoreCorruptedError} for `error` at `path`. */
export function storeCorruptedError(
  path: string,
  error: unknown,
  resolution: CorruptedStoreResolution,
  options: Pick<OpenDatabaseOptions, 'storeName' | 'partition'>,
): StoreCorruptedError {
  return new StoreCorruptedError(locationOf(path, options), errorText(error), resolution, { cause: error });
}

/** LevelDB files that hold data: tables (`.ldb`, older `.sst`) and write-ahead logs (`.log`). */
const DATA_FILE = /^\d+\.(ldb|sst|log)$/;

/**
 * Refuses a directory that holds LevelDB data files but no `CURRENT`: with
 * `createIfMissing`, LevelDB would start a new database there and delete the old tables
 * as obsolete. A missing or empty directory, or one holding only a LOCK, a LOG or a
 * manifest (a crash while the database was first created), has no data to lose.
 * @throws StoreCurrentFileMissingError naming the path and what to do.
 */
export async function checkCurrentFile(path: string, options: Pick<OpenDatabaseOptions, 'storeName' | 'partition'> = {}): Promise<void> {
  let names: string[];
  try {
    names = await readdir(path);
  } catch {
    return; // missing (created by the open) or not readable (the open reports it)
  }
  if (names.includes('CURRENT')) return;
  if (names.some((name) => DATA_FILE.test(name))) throw new StoreCurrentFileMissingError(locationOf(path, options));
}

async function waitOrAbort(path: string, ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) throw new StoreOpenAbortedError(path);
  try {
    await sleep(ms, undefined, signal === undefined ? undefined : { signal });
  } catch (error) {
    if (signal?.aborted) throw new StoreOpenAbortedError(path);
    throw error;
  }
}

/**
 * Opens (creating if missing) the database at `path`.
 *
 * A directory holding data but no `CURRENT` file is refused (see {@link checkCurrentFile}).
 * Lock and I/O failures are retried `openMaxRetries` times with a fixed backoff (the
 * lock is typically held by a partition still closing on another thread or process).
 * Corruption destroys and recreates the database when `recreateAllowed` (the store has
 * a changelog to rebuild from) and `onCorruptedRecreate` is on; otherwise it raises
 * {@link StoreCorruptedError} saying what to do. Any other failure is raised as is, immediately.
 */
export async function openDatabase(
  path: string,
  recreateAllowed: boolean,
  factory: DatabaseFactory,
  options: OpenDatabaseOptions,
): Promise<StateDatabase> {
  const maxRetries = options.openMaxRetries ?? 10;
  const backoffMs = options.openRetryBackoffMs ?? 3000;
  const maxAttempts = Math.max(0, maxRetries) + 1;
  await checkCurrentFile(path, options);
  let recreated = false;
  for (let attempt = 1; ; attempt++) {
    if (options.signal?.aborted) throw new StoreOpenAbortedError(path);
    const db = factory(path);
    try {
      await db.open({ createIfMissing: true });
      return db;
    } catch (error) {
      const failure = classifyStoreError(error);
      if (failure === 'corruption') {
        const resolution = corruptionResolution(recreateAllowed, options);
        if (resolution !== 'recreated') throw storeCorruptedError(path, error, resolution, options);
        // Recreating did not help (the fresh database is corrupt too): do not loop.
        if (recreated) throw new StoreOpenFailedError(path, attempt, errorText(error), { cause: error });
        recreated = true;
        await destroyDatabaseDirectory(path);
        options.onCorruptedRecreated?.(path, error);
        attempt--; // the recreate is not a retry
        continue;
      }
      if (failure === 'other') throw error;
      const deadlinePassed = options.openDeadline !== undefined && Date.now() + backoffMs > options.openDeadline;
      if (attempt >= maxAttempts || deadlinePassed) {
        if (failure === 'locked') throw new StoreLockedError(path, attempt, { cause: error });
        throw new StoreOpenFailedError(path, attempt, errorText(error), { cause: error });
      }
      options.onOpenRetry?.({ path, attempt, maxAttempts, backoffMs, error });
      await waitOrAbort(path, backoffMs, options.signal);
    }
  }
}

/**
 * Checks that no other handle holds the partition database at `path`, without needing
 * the database to be readable: LevelDB takes the directory's LOCK before it reads
 * anything, so a held lock is reported even when the data is corrupt. Any other failure
 * (corruption, a missing CURRENT, a missing directory) means nobody holds it; the caller
 * is about to delete it anyway. Used by `weir state clear`, which must work on a corrupt store.
 * @throws StoreLockedError when another owner holds the directory.
 */
export async function assertStoreNotLocked(path: string): Promise<void> {
  // createIfMissing false: a directory without CURRENT is not turned into a new database.
  const db = new ClassicLevel<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view', createIfMissing: false });
  try {
    await db.open({ createIfMissing: false });
  } catch (error) {
    if (classifyStoreError(error) === 'locked') throw new StoreLockedError(path, 1, { cause: error });
    return;
  }
  await db.close();
}
