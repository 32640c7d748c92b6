import { setTimeout as sleep } from 'node:timers/promises';
import {
  StoreCorruptedError,
  StoreLockedError,
  StoreOpenAbortedError,
  StoreOpenFailedError,
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

/** How to open a partition database (spec §11.2 open options). */
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
  /** Engine factory; default LevelDB via classic-level. */
  readonly createDatabase?: DatabaseFactory;
  /** Called before each wait between attempts (e.g. to log a warning). */
  readonly onOpenRetry?: (event: OpenRetryEvent) => void;
  /** Called after a corrupted database was destroyed to be recreated empty. */
  readonly onCorruptedRecreated?: (path: string, error: unknown) => void;
}

type OpenFailure = 'locked' | 'io' | 'corruption' | 'other';

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

function errorText(error: unknown): string {
  const { messages } = errorChain(error);
  return messages.length > 0 ? messages.join(': ') : String(error);
}

function classify(error: unknown): OpenFailure {
  const { codes, messages } = errorChain(error);
  if (codes.includes('LEVEL_LOCKED')) return 'locked';
  if (codes.includes('LEVEL_CORRUPTION') || messages.some((m) => /^corruption/i.test(m))) return 'corruption';
  if (codes.includes('LEVEL_IO_ERROR') || messages.some((m) => /^io error/i.test(m))) return 'io';
  return 'other';
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
 * Lock and I/O failures are retried `openMaxRetries` times with a fixed backoff (the
 * lock is typically held by a partition still closing on another thread or process).
 * Corruption destroys and recreates the database when `recreateAllowed` (the store has
 * a changelog to rebuild from) and `onCorruptedRecreate` is on; otherwise it raises
 * {@link StoreCorruptedError}. Any other failure is raised as is, immediately.
 */
export async function openDatabase(
  path: string,
  recreateAllowed: boolean,
  factory: DatabaseFactory,
  options: OpenDatabaseOptions,
): Promise<StateDatabase> {
  const maxRetries = options.openMaxRetries ?? 10;
  const backoffMs = options.openRetryBackoffMs ?? 3000;
  const onCorruptedRecreate = options.onCorruptedRecreate ?? true;
  const maxAttempts = Math.max(0, maxRetries) + 1;
  let recreated = false;
  for (let attempt = 1; ; attempt++) {
    if (options.signal?.aborted) throw new StoreOpenAbortedError(path);
    const db = factory(path);
    try {
      await db.open({ createIfMissing: true });
      return db;
    } catch (error) {
      const failure = classify(error);
      if (failure === 'corruption') {
        if (!recreateAllowed) {
          throw new StoreCorruptedError(
            path,
            `State store "${path}" is corrupted and cannot be recovered from the changelog topic (the store has no changelog): ${errorText(error)}`,
            { cause: error },
          );
        }
        if (!onCorruptedRecreate) {
          throw new StoreCorruptedError(
            path,
            `State store "${path}" is corrupted but may be recovered from the changelog topic; ` +
              `onCorruptedRecreate is set to false, so delete the directory or enable it: ${errorText(error)}`,
            { cause: error },
          );
        }
        if (recreated) throw error; // recreating did not help: do not loop
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
