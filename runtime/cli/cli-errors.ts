import { WeirError } from '../../shared/errors/weir-error.js';
import {
  AccessDeniedError,
  DatabaseLockedError,
  DiskFullError,
  FileSystemError,
  NotADirectoryError,
} from '../../shared/errors/system-errors.js';

/** A line of `weir produce` input is not a valid record. Nothing of the input was appended. */
export class InputLineError extends WeirError {
  /** 1-based line number. */
  readonly line: number;
  /** Offending field (`value`, `headers.trace`), or undefined when the whole line is bad. */
  readonly field: string | undefined;
  /** What is wrong, without the line and field (rebuilds the error across threads). */
  readonly problem: string;

  constructor(line: number, field: string | undefined, problem: string) {
    super('CLI_INPUT_LINE', `input line ${line}: ${field === undefined ? '' : `${field}: `}${problem}; nothing was appended`);
    this.line = line;
    this.field = field;
    this.problem = problem;
  }
}

/**
 * `weir produce` failed while appending (a full disk, a lost broker): the first
 * `appended` records of the input are in the topic, the rest are not. Appends are
 * durable batch by batch, so re-running the whole input would append those records
 * twice; `appended` says how many lines of records to skip.
 */
export class ProduceAppendError extends WeirError {
  readonly topic: string;
  /** Records appended (durably) before the failure: the input's first `appended` records. */
  readonly appended: number;
  /** Records of the input. */
  readonly total: number;

  constructor(topic: string, appended: number, total: number, cause: unknown) {
    super('PRODUCE_APPEND_FAILED', `appended ${appended} of ${total} records before the failure: ${describeFailure(cause)}`, { cause });
    this.topic = topic;
    this.appended = appended;
    this.total = total;
  }
}

/** `weir run --close-windows` without `--until-idle`: only a run that reads its input to the end can close windows at the end. */
export class CloseWindowsNeedsUntilIdleError extends WeirError {
  constructor() {
    super(
      'CLI_CLOSE_WINDOWS_NEEDS_UNTIL_IDLE',
      '--close-windows needs --until-idle: windows are closed once the input has been read to its end (a run stopped by a signal leaves them open)',
    );
  }
}

interface SystemErrorLike {
  readonly code?: unknown;
  readonly path?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
}

/** The error and its causes, outermost first (bounded: a cause chain can be cyclic). */
function chain(error: unknown): SystemErrorLike[] {
  const out: SystemErrorLike[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    out.push(current as SystemErrorLike);
    current = (current as SystemErrorLike).cause;
  }
  return out;
}

/** LevelDB's I/O errors name the file before the system's text: `IO error: /x/000005.log: No space left on device`. */
const LEVEL_IO_MESSAGE = /^IO error: (?:lock )?(.+?): (.+)$/;

const LEVEL_TEXT_TO_CODE: readonly (readonly [RegExp, string])[] = [
  [/no space left on device/i, 'ENOSPC'],
  [/disk quota exceeded/i, 'EDQUOT'],
  [/not a directory/i, 'ENOTDIR'],
  [/permission denied/i, 'EACCES'],
  [/read-only file system/i, 'EROFS'],
  [/already held by process/i, 'LOCKED'],
];

/** The system condition of one error: its errno code, or the one LevelDB's message text names. */
function systemCondition(error: SystemErrorLike): { code: string; path: string | undefined; detail: string } | undefined {
  const message = typeof error.message === 'string' ? error.message : '';
  const path = typeof error.path === 'string' ? error.path : undefined;
  if (typeof error.code === 'string' && /^E[A-Z]+$/.test(error.code)) return { code: error.code, path, detail: message };
  if (error.code === 'LEVEL_LOCKED') return { code: 'LOCKED', path: LEVEL_IO_MESSAGE.exec(message)?.[1], detail: message };
  const level = LEVEL_IO_MESSAGE.exec(message);
  if (level === null) return undefined;
  for (const [pattern, code] of LEVEL_TEXT_TO_CODE) {
    if (pattern.test(level[2] ?? '')) return { code, path: level[1], detail: message };
  }
  return undefined;
}

/**
 * The named error for a failure of the machine (see shared/errors/system-errors.ts), when
 * `error` or one of its causes is one; undefined otherwise (a bug, or already a WeirError).
 * A lock held on a LevelDB directory becomes {@link DatabaseLockedError}.
 */
export function systemErrorOf(error: unknown): WeirError | undefined {
  for (const link of chain(error)) {
    const condition = systemCondition(link);
    if (condition === undefined) continue;
    const { code, path, detail } = condition;
    const options = { cause: error };
    switch (code) {
      case 'ENOSPC':
      case 'EDQUOT':
        return new DiskFullError(path, detail, options);
      case 'ENOTDIR':
        return new NotADirectoryError(path, options);
      case 'EACCES':
      case 'EPERM':
      case 'EROFS':
        return new AccessDeniedError(path, code, detail, options);
      case 'LOCKED':
        return new DatabaseLockedError(path, options);
      default:
        return new FileSystemError(code, path, detail, options);
    }
  }
  return undefined;
}

/** One-line description of a failure for a message: a weir error's or system error's message, else the error's own. */
export function describeFailure(error: unknown): string {
  if (error instanceof WeirError) return error.message;
  const system = systemErrorOf(error);
  if (system !== undefined) return system.message;
  return error instanceof Error ? error.message : String(error);
}

/** `--key-format` / `--value-format` of `weir produce` or `weir topic dump` cannot be used as given. */
export class FormatOptionError extends WeirError {
  constructor(readonly option: string, problem: string) {
    super('CLI_FORMAT_OPTION', `${option}: ${problem}`);
  }
}
