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
 *   node dist/bench/server.bench.js [--requests 20] [--lines 10000] [--concurrency 2]
 *       [--keys 10000] [--queries 2000] [--workers 2]
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/index.js';
import { runJob } from '../runtime/job-runner.js';
import { LocalLogBackend } from '../shared/log/local/local-log-backend.js';
import { COUNT_PIPELINE_TS, loadAverage, positiveInteger, round, tempDir } from './bench-support.js';

const { values: flags } = parseArgs({
  options: {
    requests: { type: 'string', default: '20' },
    lines: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '2' },
    keys: { type: 'string', default: '10000' },
    queries: { type: 'string', default: '2000' },
    workers: { type: 'string', default: '2' },
  },
});
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
  const second = new AbortController();
  let url!: string;
  let running!: Promise<unknown>;
  const ready = new Promise<void>((resolve) => {
    running = runJob(config, { signal: second.signal, stream: quiet, onServerListening: (u) => ((url = u), resolve()) });
  });
  await ready;
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
  second.abort();
  await running;
  process.stdout.write(
    `${JSON.stringify(
      {
        bench: 'server',
        requests,
        linesPerRequest: lines,
        concurrency,
        workers,
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
