/**
 * Weir's own log lines on stderr, through pino (docs/config.md `logging`): one logger per
 * thread (the coordinator and each worker configure theirs from the job's config).
 *
 * - `format: auto` (the default): `text` when stderr is a terminal, `json` otherwise (a
 *   container, a service manager, a pipe: where logs are collected). The coordinator
 *   decides once and gives its worker threads the decided format (a worker's stderr is
 *   never a terminal);
 * - `format: text` prints the human lines `weir: <message>` through `process.stderr` (so
 *   they interleave with the progress output);
 * - `format: json` prints pino's JSON lines, one object per line: `level` (pino's label),
 *   `time` (epoch ms), `msg` (the same message text) and the context fields a line has
 *   (`topic`, `partition`, `worker`, `store`, `code`).
 *
 * Before a job's config is loaded (a config error, a command without one) the level and
 * format come from `WEIR_LOGGING__LEVEL` / `WEIR_LOGGING__FORMAT` when set, as the config
 * would take them, else info and auto.
 *
 * Messages are built by their callers from already redacted values (config and Kafka
 * client properties go through redactConfig / the client's redaction before any log
 * line names them); context fields carry only names and numbers, never secrets.
 */
import { pino, type Logger } from 'pino';

const LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
const FORMATS = ['auto', 'text', 'json'] as const;

/** Weir's own log lines on stderr (config `logging`, docs/config.md). */
export interface LoggingConfig {
  /** Lines below this level are dropped (`silent`: none). */
  readonly level: (typeof LEVELS)[number];
  /** `text`: the human `weir: <message>` lines; `json`: one JSON object per line (pino); `auto`: text on a terminal, else json. */
  readonly format: (typeof FORMATS)[number];
}

/** A logging config with `auto` decided. */
export interface DecidedLoggingConfig extends LoggingConfig {
  readonly format: 'text' | 'json';
}

/** `auto` decided for `stream` (stderr): text on a terminal, json anywhere else. */
export function decideLogFormat(config: LoggingConfig, stream: { readonly isTTY?: boolean } = process.stderr): DecidedLoggingConfig {
  return { level: config.level, format: config.format === 'auto' ? (stream.isTTY === true ? 'text' : 'json') : config.format };
}

/** The settings before a config is loaded: `WEIR_LOGGING__LEVEL` / `__FORMAT` when valid, else info and auto. */
function defaultLogging(env: NodeJS.ProcessEnv = process.env): LoggingConfig {
  const level = LEVELS.find((l) => l === env['WEIR_LOGGING__LEVEL']) ?? 'info';
  const format = FORMATS.find((f) => f === env['WEIR_LOGGING__FORMAT']) ?? 'auto';
  return { level, format };
}

/** Context of a log line (the JSON format's fields). */
export interface LogContext {
  readonly topic?: string;
  readonly partition?: number;
  readonly worker?: number;
  readonly store?: string;
  /** A weir error code (a failure the CLI reports). */
  readonly code?: string;
}


/** Text format: pino's line read back into `weir: <msg>`. */
const textDestination = {
  write(line: string): void {
    const { msg } = JSON.parse(line) as { msg?: unknown };
    process.stderr.write(`weir: ${String(msg ?? '')}\n`);
  },
};

function createLogger(config: DecidedLoggingConfig): Logger {
  const options = { level: config.level, base: null, timestamp: pino.stdTimeFunctions.epochTime, formatters: { level: (label: string) => ({ level: label }) } };
  // JSON: synchronous writes to fd 2, so a line is out before a crash or process.exit.
  return config.format === 'json' ? pino(options, pino.destination({ fd: 2, sync: true })) : pino(options, textDestination);
}

let current: DecidedLoggingConfig = decideLogFormat(defaultLogging());
let logger = createLogger(current);

/** Sets this thread's level and format (from the job's config; absent: the defaults above), deciding `auto`. */
export function configureLogging(config: LoggingConfig | undefined): void {
  const next = decideLogFormat(config ?? defaultLogging());
  if (next.level === current.level && next.format === current.format) return;
  current = next;
  logger = createLogger(next);
}

/** This thread's logging settings, `auto` decided: what worker threads are given. */
export function loggingConfig(): DecidedLoggingConfig {
  return current;
}

function line(level: 'debug' | 'info' | 'warn' | 'error'): (message: string, context?: LogContext) => void {
  return (message, context) => {
    if (context === undefined) logger[level](message);
    else logger[level](context, message);
  };
}

/** Weir's log: `weirLog.warn('…', { topic, partition })`. */
export const weirLog = {
  debug: line('debug'),
  info: line('info'),
  warn: line('warn'),
  error: line('error'),
};
