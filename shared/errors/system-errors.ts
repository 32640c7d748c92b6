/**
 * Failures of the machine rather than of weir or its input: a full disk, a path through
 * a file, a denied permission, a database another process holds. Node and LevelDB
 * report them as plain errors (`ENOSPC`, `IO error: …: No space left on device`); the CLI
 * turns those into these (runtime/cli/cli-errors.ts), so the user reads what is in the
 * way and where, without a stack trace.
 */
import { WeirError } from './weir-error.js';

/** No space left on the device (`ENOSPC`, or a disk quota: `EDQUOT`). */
export class DiskFullError extends WeirError {
  /** The file being written, when known. */
  readonly path: string | undefined;

  constructor(path: string | undefined, detail: string, options?: { cause?: unknown }) {
    super(
      'DISK_FULL',
      `no space left on the device${path === undefined ? '' : ` writing ${path}`} (${detail}); free some space, or move log.path / state.dir to a larger disk`,
      options,
    );
    this.path = path;
  }
}

/** A path goes through a file as if it were a directory (`ENOTDIR`). */
export class NotADirectoryError extends WeirError {
  readonly path: string | undefined;

  constructor(path: string | undefined, options?: { cause?: unknown }) {
    super(
      'NOT_A_DIRECTORY',
      `${path === undefined ? 'a path' : path} cannot be used: a part of it is a file, not a directory; fix the path (log.path, state.dir, the config file's location) or move the file`,
      options,
    );
    this.path = path;
  }
}

/** The operating system refused access to a path (`EACCES`, `EPERM`, `EROFS`). */
export class AccessDeniedError extends WeirError {
  readonly path: string | undefined;
  /** The system error code, e.g. `EACCES`. */
  readonly systemCode: string;

  constructor(path: string | undefined, systemCode: string, detail: string, options?: { cause?: unknown }) {
    super(
      'ACCESS_DENIED',
      `access to ${path === undefined ? 'a file' : path} was refused (${detail}); check its permissions and that its file system is writable`,
      options,
    );
    this.path = path;
    this.systemCode = systemCode;
  }
}

/** A LevelDB database (local log or state store) is held by another process. */
export class DatabaseLockedError extends WeirError {
  readonly path: string | undefined;

  constructor(path: string | undefined, options?: { cause?: unknown }) {
    super(
      'DATABASE_LOCKED',
      `the database ${path === undefined ? '' : `at ${path} `}is locked by another process (a running job or weir command); stop it, or wait for it to finish`,
      options,
    );
    this.path = path;
  }
}

/** Another file system error (`ENOENT` of a file weir expected, `EISDIR`, `EMFILE`, …), with the call and the path. */
export class FileSystemError extends WeirError {
  readonly path: string | undefined;
  readonly systemCode: string;

  constructor(systemCode: string, path: string | undefined, detail: string, options?: { cause?: unknown }) {
    super('FILE_SYSTEM', `file system error ${systemCode}${path === undefined ? '' : ` on ${path}`}: ${detail}`, options);
    this.path = path;
    this.systemCode = systemCode;
  }
}
