/**
 * Weir's own log lines on stderr, through pino (docs/config.md `logging`): one logger per
 * thread (the coordinator and each worker configure theirs from the job's config).
 *
 * - `format: text` (the default) prints exactly the human lines weir always printed,
 *   `weir: <message>`, through `process.stderr` (so they interleave with the progress
 *   output as before and tests matching them keep passing);
 * - `format: json` prints pino's JSON lines, one object per line: `level` (pino's label),
 *   `time` (epoch ms), `msg` (the same message text) and the context fields a line has
 *   (`topic`, `partition`, `worker`, `store`).
 *
 * Messages are built by their callers from already redacted values (config and Kafka
 * client properties go through redactConfig / the client's redaction before any log
 * line names them); context fields carry only names and numbers, never secrets.
 */
import { pino, type Logger } from 'pino';

/** Weir's own log lines on stderr (config `logging`, docs/config.md). */
export interface LoggingConfig {
  /** Lines below this level are dropped (`silent`: none). */
  readonly level: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** `text`: the human `weir: <message>` lines; `json`: one JSON object per line (pino). */
  readonly format: 'text' | 'json';
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

const DEFAULT_LOGGING: LoggingConfig = { level: 'info', format: 'text' };

/** Text format: pino's line read back into `weir: <msg>`. */
const textDestination = {
  write(line: string): void {
    const { msg } = JSON.parse(line) as { msg?: unknown };
    process.stderr.write(`weir: ${String(msg ?? '')}\n`);
  },
};

function createLogger(config: LoggingConfig): Logger {
  const options = { level: config.level, base: null, timestamp: pino.stdTimeFunctions.epochTime, formatters: { level: (label: string) => ({ level: label }) } };
  // JSON: synchronous writes to fd 2, so a line is out before a crash or process.exit.
  return config.format === 'json' ? pino(options, pino.destination({ fd: 2, sync: true })) : pino(options, textDestination);
}

let logger = createLogger(DEFAULT_LOGGING);
let current: LoggingConfig = DEFAULT_LOGGING;

/** Sets this thread's level and format (from the job's config; absent: info, text). */
export function configureLogging(config: LoggingConfig | undefined): void {
  const next = config ?? DEFAULT_LOGGING;
  if (next.level === current.level && next.format === current.format) return;
  current = next;
  logger = createLogger(next);
}

/** This thread's logging settings. */
export function loggingConfig(): LoggingConfig {
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
