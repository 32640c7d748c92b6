/**
 * Opens the local log's LevelDB database, turning "locked by someone else" into a
 * `LogLockedError` after a few short retries (a process that just exited may still
 * be releasing the lock).
 *
 * A log is only created in a missing or empty directory: a non-empty directory without
 * LevelDB's `CURRENT` file is someone else's (a typo in `log.path`, the state directory,
 * a home directory) and is refused with `NotALogDirectoryError` instead of having a
 * database written into it.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { ClassicLevel } from 'classic-level';
import { LogLockedError, NotALogDirectoryError } from '../../errors/log-errors.js';

/**
 * Table files the log keeps open (LevelDB's default: 1,000). LevelDB maps an open table
 * file into memory and every page read through it (a reader's records, a compaction's
 * inputs) stays resident, counted in the process's RSS, until the file is closed; with a
 * thousand open files that is every table the log has read, so a job's peak RSS grew with
 * the length of its input (5 M records: ~150 MB of mapped tables). 64 files still hold
 * every table a job's readers and compactions use at once (docs/data-plane.md, "Memory").
 */
const LOG_MAX_OPEN_FILES = 64;

/**
 * Size at which a compaction starts a new table file (LevelDB's default: 2 MiB). LevelDB
 * never keeps fewer than 64 table files open (it raises `maxOpenFiles` to 74, ten of them
 * for other files), so the file size is what bounds the mapped, resident tables: every
 * input table a reader has passed stays resident until 64 newer ones push it out. With
 * 2 MiB files that came to 44–54 MB at 5 M records against 22–33 MB at 1 M; with 512 KiB
 * it stayed at 27–38 MB at 5 M and 10 M, and appends and reads ran as fast
 * (BENCHMARKS.md, "Peak RSS: the log's table files at 512 KiB").
 */
const LOG_MAX_FILE_BYTES = 512 * 1024;

/**
 * The log's table files are written without Snappy compression. LevelDB's one background
 * thread rewrites every byte of the log several times as it compacts levels (a job at
 * 150 k records/s made it the busiest thread of the process, ~35 % of a core, 38 % of that
 * in Snappy), to store the count job's batches in ~40 % of their bytes. Without
 * compression that thread works ~15 % less, reads skip the decompression, and the pages
 * a read maps hold the records themselves; the price is ~2.3× the disk (BENCHMARKS.md,
 * "The log's tables uncompressed"). Tables written compressed before stay readable:
 * LevelDB marks compression per block.
 */
const LOG_COMPRESSION = false;

/** The database type the local log uses: binary keys and values. */
export type LogDatabase = ClassicLevel<Buffer, Buffer>;

export interface OpenRetry {
  /** Attempts after the first when the directory is locked. */
  readonly retries: number;
  readonly delayMs: number;
}

/**
 * Files LevelDB writes before `CURRENT` when it creates a database: a directory holding
 * only these is a creation that was interrupted, with nothing in it yet.
 */
const CREATION_LEFTOVERS = new Set(['LOCK', 'LOG', 'LOG.old']);

export async function openLogDatabase(path: string, retry: OpenRetry): Promise<LogDatabase> {
  const createIfMissing = await checkLogDirectory(path);
  for (let attempt = 0; ; attempt++) {
    const db: LogDatabase = new ClassicLevel<Buffer, Buffer>(path, {
      keyEncoding: 'buffer',
      valueEncoding: 'buffer',
      createIfMissing,
      maxOpenFiles: LOG_MAX_OPEN_FILES,
      maxFileSize: LOG_MAX_FILE_BYTES,
      compression: LOG_COMPRESSION,
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

/** Creates `path` if missing; whether LevelDB may create a database there. */
async function checkLogDirectory(path: string): Promise<boolean> {
  let entries: string[];
  try {
    entries = await readdir(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new NotALogDirectoryError(path, 'it is a file, not a directory');
    if (code !== 'ENOENT') throw error;
    await mkdir(path, { recursive: true });
    return true;
  }
  if (entries.includes('CURRENT')) return false;
  const foreign = entries.filter((entry) => !CREATION_LEFTOVERS.has(entry));
  if (foreign.length === 0) return true;
  const shown = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? `, … (${foreign.length} entries)` : '');
  throw new NotALogDirectoryError(path, `it is not empty (${shown}) and holds no LevelDB database`);
}

function isLockedError(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  return cause?.code === 'LEVEL_LOCKED';
}
