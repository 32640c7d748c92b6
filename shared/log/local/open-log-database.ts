/**
 * Opens the local log's LevelDB database, turning "locked by someone else" into a
 * `LogLockedError` after a few short retries (a process that just exited may still
 * be releasing the lock).
 */
import { mkdir } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { ClassicLevel } from 'classic-level';
import { LogLockedError } from '../../errors/log-errors.js';

/** The database type the local log uses: binary keys and values. */
export type LogDatabase = ClassicLevel<Buffer, Buffer>;

export interface OpenRetry {
  /** Attempts after the first when the directory is locked. */
  readonly retries: number;
  readonly delayMs: number;
}

export async function openLogDatabase(path: string, retry: OpenRetry): Promise<LogDatabase> {
  await mkdir(path, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const db: LogDatabase = new ClassicLevel<Buffer, Buffer>(path, {
      keyEncoding: 'buffer',
      valueEncoding: 'buffer',
    });
    try {
      await db.open();
      return db;
    } catch (error) {
      if (!isLockedError(error)) throw error;
      if (attempt >= retry.retries) throw new LogLockedError(path, { cause: error });
      await delay(retry.delayMs);
    }
  }
}

function isLockedError(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  return cause?.code === 'LEVEL_LOCKED';
}
