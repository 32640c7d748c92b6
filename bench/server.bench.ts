/**
 * The job's server under load (docs/server.md): live-produce rate and query latency.
 *
 * The count job (examples/count/pipeline.ts) runs in this process through `runJob`, as
 * `weir run` runs it, on a fresh local log. Then:
 * 1. produce: `--requests` POSTs of `--lines` JSON Lines records each (the `weir produce`
 *    format, `--keys` keys), `--concurrency` at a time, while the job processes them;
 *    reports records/s acknowledged (durable) and records/s until the job has processed
 *    them all (from its /metrics);
 * 2. queries: `--queries` GETs of random keys one after another while a second produce
 *    phase of the same size keeps the job busy; reports p50/p99/max latency in ms.
 * Prints one JSON document.
 *
 * `--job-process` runs the job as `weir run` in a process of its own (found through its
 * address file), as in production, so the bench's HTTP client does not share the job's
 * event loop; by default the job runs in the bench's process (the numbers recorded
 * before that option existed).
 *
 *   node dist/bench/server.bench.js [--requests 20] [--lines 10000] [--concurrency 2]
 *       [--keys 10000] [--queries 2000] [--workers 2] [--job-process]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, type WeirConfig } from '../config/index.js';
import { runJob } from '../runtime/job-runner.js';
import { findRunningServer } from '../runtime/server/address-file.js';
import { LocalLogBackend } from '../shared/log/local/local-log-backend.js';
import { childEnv, COUNT_PIPELINE_TS, DIST, loadAverage, positiveInteger, REPO_ROOT, round, tempDir } from './bench-support.js';

const { values: flags } = parseArgs({
  options: {
    requests: { type: 'string', default: '20' },
    lines: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '2' },
    keys: { type: 'string', default: '10000' },
    queries: { type: 'string', default: '2000' },
    workers: { type: 'string', default: '2' },
    'job-process': { type: 'boolean', default: false },
  },
});
const jobProcess = flags['job-process'];
const requests = positiveInteger('requests', flags.requests);
const lines = positiveInteger('lines', flags.lines);
const concurrency = positiveInteger('concurrency', flags.concurrency);
const keys = positiveInteger('keys', flags.keys);
const queries = positiveInteger('queries', flags.queries);
const workers = positiveInteger('workers', flags.workers);

const quiet = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;

function body(request: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const n = request * lines + i;
    out.push(JSON.stringify({ key: `key-${(n * 2654435761) % keys}`, value: { n, amount: n % 100 } }));
  }
  return `${out.join('\n')}\n`;
}

async function produceAll(url: string, offset: number): Promise<number> {
  const bodies = Array.from({ length: requests }, (_, i) => body(offset + i)); // built before the clock starts
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const payload = bodies[next++]!;
        for (;;) {
          const response = await fetch(`${url}/topics/events/records`, { method: 'POST', body: payload });
          await response.text();
          if (response.status === 200) break;
          if (response.status !== 429) throw new Error(`produce answered ${response.status}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

async function processed(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const match of text.matchAll(/^weir_records_processed_total\{[^}]*\} (\d+)$/gm)) total += Number(match[1]);
  return total;
}

interface RunningJob {
  readonly url: string;
  readonly stop: () => Promise<void>;
}

/** The job in this process, through `runJob` as `weir run` calls it. */
async function startJobInProcess(config: WeirConfig): Promise<RunningJob> {
  const controller = new AbortController();
  let running!: Promise<unknown>;
  const url = await new Promise<string>((resolve) => {
    running = runJob(config, { signal: controller.signal, stream: quiet, onServerListening: resolve });
  });
  return {
    url,
    stop: async () => {
      controller.abort();
      await running;
    },
  };
}

/** `weir run -c configPath` in a child process; its server found through the address file. */
async function startJobProcess(config: WeirConfig, configPath: string): Promise<RunningJob> {
  const child = spawn(process.execPath, [join(DIST, 'runtime', 'cli', 'main.js'), 'run', '-c', configPath], {
    env: childEnv(),
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit');
  for (;;) {
    if (child.exitCode !== null) throw new Error(`weir run exited with ${child.exitCode}:\n${stderr.slice(-4000)}`);
    const address = await findRunningServer(config);
    if (address !== undefined && address.pid === child.pid) {
      return {
        url: address.url,
        stop: async () => {
          child.kill('SIGTERM');
          const [code] = (await exited) as [number | null];
          if (code !== 0) throw new Error(`weir run exited with ${code}:\n${stderr.slice(-4000)}`);
        },
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const dir = await tempDir('weir-server-bench-');
try {
  const configPath = join(dir.path, 'weir.yaml');
  await writeFile(
    configPath,
    [
      'appId: server-bench',
      'log: { backend: local, path: ./log }',
      'state: { dir: ./state }',
      'input: { topics: [events] }',
      'output: { topics: [counts] }',
      `pipeline: ${JSON.stringify(COUNT_PIPELINE_TS)}`,
      'partitions: 8',
      `workers: ${workers}`,
      'commitInterval: 1',
    ].join('\n'),
  );
  const config = await loadConfig(configPath);
  // The input topic exists before the job starts.
  const backend = await LocalLogBackend.open(join(dir.path, 'log'));
  await backend.createTopic('events', 8);
  await backend.close();
  const { url, stop } = jobProcess ? await startJobProcess(config, configPath) : await startJobInProcess(config);
  while ((await fetch(`${url}/readyz`)).status !== 200) await new Promise((resolve) => setTimeout(resolve, 50));

  const total = requests * lines;
  const started = performance.now();
  const produceSeconds = await produceAll(url, 0);
  while ((await processed(url)) < total) await new Promise((resolve) => setTimeout(resolve, 20));
  const endToEndSeconds = (performance.now() - started) / 1000;

  const latencies: number[] = [];
  const load = produceAll(url, requests);
  for (let i = 0; i < queries; i++) {
    const key = encodeURIComponent(JSON.stringify(`key-${(i * 7919) % keys}`));
    const t0 = performance.now();
    const response = await fetch(`${url}/stores/counts/keys/${key}`);
    await response.text();
    latencies.push(performance.now() - t0);
  }
  await load;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!, 2);
  await stop();
  process.stdout.write(
    `${JSON.stringify(
      {
        bench: 'server',
        requests,
        linesPerRequest: lines,
        concurrency,
        workers,
        job: jobProcess ? 'own process (weir run)' : 'in the bench process',
        produce: {
          records: total,
          acknowledgedRecordsPerSecond: round(total / produceSeconds),
          processedRecordsPerSecond: round(total / endToEndSeconds),
        },
        queries: { count: queries, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: round(latencies.at(-1)!, 2), duringProduce: true },
        loadAverage: loadAverage(),
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await dir.cleanup();
}
