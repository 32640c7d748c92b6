/**
 * Entry of the child process that runs one phase of one benchmark run (forked by
 * child-run.ts with an IPC channel). It receives the run's config, runs the job until
 * idle exactly as `weir run --until-idle` would, reports progress, and sends what it
 * measured; then exits.
 */
import { performance } from 'node:perf_hooks';
import { WeirError } from '../../shared/errors/weir-error.js';
import { openLogBackend } from '../../runtime/open-log-backend.js';
import { App } from '../../runtime/app.js';
import type { ChildMessage, ChildRequest, ChildRunResult } from './child-protocol.js';
import { benchBackend } from './bench-backend.js';

/** Progress messages at most this often (ms). */
const PROGRESS_INTERVAL_MS = 200;

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

async function run(request: ChildRequest): Promise<ChildRunResult> {
  const { config, phase } = request;
  const backend = await openLogBackend(config);
  const timed = benchBackend(backend);
  try {
    const app = await App.create(config, timed.backend);
    const recoveredByPartition = new Map<string, number>();
    let lastProgress = 0;
    let lastRecoveryAt: number | undefined;
    const elu = performance.eventLoopUtilization();
    const cpu = process.cpuUsage();
    const started = performance.now();
    const summary = await app.run({
      untilIdle: true,
      // In the recovery phase the record count stays 0; progress there is changelog records.
      ...(phase === 'processing' ? { onThroughput: (records: number) => void send({ kind: 'progress', phase, done: records }) } : {}),
      onRecoveryProgress: (p) => {
        lastRecoveryAt = performance.now();
        recoveredByPartition.set(`${p.changelogTopic}[${p.partition}]`, p.recovered);
        if (lastRecoveryAt - lastProgress < PROGRESS_INTERVAL_MS && !p.done) return;
        lastProgress = lastRecoveryAt;
        let done = 0;
        for (const n of recoveredByPartition.values()) done += n;
        void send({ kind: 'progress', phase, done });
      },
    });
    const used = process.cpuUsage(cpu);
    const replayStart = timed.firstDirectReadAt();
    const recovered = lastRecoveryAt !== undefined && summary.recoveredRecords > 0;
    return {
      summary,
      recoverySeconds: recovered && replayStart !== undefined ? (lastRecoveryAt! - replayStart) / 1000 : null,
      secondsUntilRecovered: recovered ? (lastRecoveryAt! - started) / 1000 : null,
      coordinatorBusySeconds: performance.eventLoopUtilization(elu).active / 1000,
      processCpuSeconds: (used.user + used.system) / 1e6,
      // maxRSS is in kilobytes.
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
  } finally {
    await backend.close();
  }
}

process.once('message', (request: ChildRequest) => {
  run(request).then(
    async (result) => {
      await send({ kind: 'result', result });
      process.exit(0);
    },
    async (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      const code = error instanceof WeirError ? error.code : undefined;
      if (!(error instanceof WeirError) && error instanceof Error && error.stack !== undefined) process.stderr.write(`${error.stack}\n`);
      await send({ kind: 'failed', message, code });
      process.exit(1);
    },
  );
});
