/**
 * Runs a job from its config the way `weir run` does: opens the log backend, creates the
 * App, wires SIGINT/SIGTERM to a graceful stop (final checkpoint), shows live throughput
 * and recovery progress on a TTY (periodic log lines otherwise) and returns the summary.
 */
import { configureLogging, loggingConfig, weirLog, type LogContext } from '../shared/logging/weir-log.js';
import cliProgress from 'cli-progress';
import type { WeirConfig } from '../config/index.js';
import { openLogBackend } from './open-log-backend.js';
import { App, type RunSummary } from './app.js';
import type { RecoveryProgress } from './recovery-runner.js';
import type { JobServer } from './server/job-server.js';

export interface JobRunOptions {
  readonly untilIdle?: boolean;
  /** With `untilIdle`: close every open window at the end of input (RunOptions.closeWindows). */
  readonly closeWindows?: boolean;
  /** Where progress goes; default process.stderr. */
  readonly stream?: NodeJS.WriteStream;
  readonly onRecoveryProgress?: (progress: RecoveryProgress) => void;
  /** Stops the run (final checkpoint). Default: SIGINT/SIGTERM of this process. */
  readonly signal?: AbortSignal;
  /** Called once the job's server listens (config `server`), with its URL. */
  readonly onServerListening?: (url: string) => void;
}

/** Run the configured job to completion (idle, signal) and return its summary. */
export async function runJob(config: WeirConfig, options: JobRunOptions = {}): Promise<RunSummary> {
  configureLogging(config.logging);
  const stream = options.stream ?? process.stderr;
  // The live bar is for people; JSON logs get progress lines instead.
  const tty = stream.isTTY === true && loggingConfig().format !== 'json';
  const backend = await openLogBackend(config);
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  if (options.signal === undefined) {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } else if (options.signal.aborted) {
    controller.abort();
  } else {
    options.signal.addEventListener('abort', stop, { once: true });
  }
  const display = new ProgressDisplay(stream, tty);
  let server: JobServer | undefined;
  try {
    if (config.server.enabled) {
      // Loaded on demand: fastify and prom-client stay out of the CLI's start-up module graph,
      // which must load fast so the stop handler is installed early (cli/stop-signal.ts).
      const { startJobServer } = await import('./server/job-server.js');
      server = await startJobServer(config, backend);
      options.onServerListening?.(server.url);
    }
    const app = await App.create(config, backend);
    return await app.run({
      ...(server === undefined ? {} : { onRunning: server.attach }),
      untilIdle: options.untilIdle === true,
      closeWindows: options.closeWindows === true,
      signal: controller.signal,
      onRecoveryProgress: (p) => {
        display.recovery(p);
        server?.recoveryProgress(p);
        options.onRecoveryProgress?.(p);
      },
      onThroughput: (records, seconds) => display.throughput(records, seconds),
    });
  } finally {
    display.stop();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await server?.close();
    await backend.close();
  }
}

/** Live throughput and recovery progress: a bar on a TTY, a line every 10 s otherwise. */
class ProgressDisplay {
  private bar: cliProgress.SingleBar | undefined;
  private lastLine = 0;
  private lastRecords = 0;
  private lastSeconds = 0;

  constructor(private readonly stream: NodeJS.WriteStream, private readonly tty: boolean) {}

  /**
   * A progress line: `weir: <message>` on the stream, or a JSON log line under
   * `logging.format: json` when the stream is stderr (a test's own stream keeps text).
   */
  private line(message: string, context?: LogContext): void {
    if (loggingConfig().format === 'json' && this.stream === process.stderr) weirLog.info(message, context);
    else this.stream.write(`weir: ${message}\n`);
  }

  recovery(p: RecoveryProgress): void {
    const now = performance.now();
    if (!p.done && now - this.lastLine < (this.tty ? 500 : 10_000)) return;
    this.lastLine = now;
    const state = p.done ? 'recovered' : 'recovering';
    this.line(`${state} ${p.changelogTopic}[${p.partition}]: ${p.recovered} / ${p.total} records`, { topic: p.changelogTopic, partition: p.partition });
  }

  throughput(records: number, seconds: number): void {
    const rate = seconds > this.lastSeconds ? (records - this.lastRecords) / (seconds - this.lastSeconds) : 0;
    this.lastRecords = records;
    this.lastSeconds = seconds;
    if (this.tty) {
      if (this.bar === undefined) {
        this.bar = new cliProgress.SingleBar(
          { format: 'weir: {records} records | {rate} records/s | {elapsed}s', stream: this.stream, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        this.bar.start(0, 0, { records: 0, rate: 0, elapsed: 0 });
      }
      this.bar.update(0, { records, rate: Math.round(rate), elapsed: Math.round(seconds) });
    } else if (performance.now() - this.lastLine >= 10_000) {
      this.lastLine = performance.now();
      this.line(`${records} records processed, ${Math.round(rate)} records/s`);
    }
  }

  stop(): void {
    this.bar?.stop();
  }
}

/** The end-of-run summary as printed by `weir run`. */
export function formatSummary(summary: RunSummary): string {
  const lines = [
    `records: ${summary.records}`,
    `seconds: ${summary.seconds.toFixed(2)}`,
    `records/s: ${Math.round(summary.recordsPerSecond)}`,
    `recovered changelog records: ${summary.recoveredRecords}`,
    `checkpoints: ${summary.checkpoints}`,
    `coordinator cpu: ${summary.coordinatorCpuSeconds.toFixed(2)} s` +
      (summary.records > 0 ? ` (${((summary.coordinatorCpuSeconds * 1e6) / summary.records).toFixed(2)} µs/record)` : ''),
    `peak rss: ${Math.round(summary.peakRssBytes / (1024 * 1024))} MiB`,
    ...summary.workers.map(
      (w) =>
        `worker ${w.workerId}: ${w.records} records, ${w.recordsRecovered} recovered, cpu ${w.cpuSeconds.toFixed(2)} s` +
        (w.records > 0 ? ` (${((w.cpuSeconds * 1e6) / w.records).toFixed(2)} µs/record)` : ''),
    ),
  ];
  return lines.join('\n');
}
