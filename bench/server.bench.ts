/**
 * The job's server under load (docs/server.md): live-produce rate and query latency.
 *
 * The count job (examples/count/pipeline.ts) runs as `weir run` runs it, on a fresh local
 * log seeded with `--backlog` events before it starts. Then, one after another:
 * 1. backlog: queries (random keys, one after another) from readiness until the job has
 *    processed the seeded backlog: the job processes at full speed and nothing else runs;
 * 2. produce: `--requests` POSTs of `--lines` JSON Lines records each (the `weir produce`
 *    format, `--keys` keys), `--concurrency` at a time, while the job processes them;
 *    reports records/s acknowledged (durable) and records/s until the job has processed
 *    them all (from its /metrics);
 * 3. live produce: queries while rounds of the same produce run (at least `--live-queries`
 *    queries, each started and ended while a round ran);
 * 4. idle: `--queries` queries once the job has processed everything;
 * 5. floor: the same queries against a server that answers at once (`node:http`, no work)
 *    in a process of its own, alone and beside two CPU-bound processes: what this machine
 *    gives any Node server, the floor under every number above.
 * Queries go through `node:http` with a keep-alive agent: `fetch` added ~0.5 ms and its
 * own garbage to every query, measured in the client rather than in the job.
 * Prints one JSON document.
 *
 * `--job-process` runs the job as `weir run` in a process of its own (found through its
 * address file), as in production, so the bench's HTTP client does not share the job's
 * event loop; by default the job runs in the bench's process (the numbers recorded
 * before that option existed).
 *
 *   node dist/bench/server.bench.js [--requests 20] [--lines 10000] [--concurrency 2]
 *       [--keys 10000] [--queries 2000] [--backlog 1000000] [--live-queries 300]
 *       [--workers 2] [--job-process]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, get as httpGet } from 'node:http';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { COORDINATOR_NODE_FLAGS } from '../runtime/coordinator-heap.js';
import { loadConfig, type WeirConfig } from '../config/index.js';
import { runJob } from '../runtime/job-runner.js';
import { findRunningServer } from '../runtime/server/address-file.js';
import { childEnv, COUNT_PIPELINE_TS, DIST, loadAverage, positiveInteger, REPO_ROOT, round, seedLocalLog, tempDir } from './bench-support.js';

const { values: flags } = parseArgs({
  options: {
    requests: { type: 'string', default: '20' },
    lines: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '2' },
    keys: { type: 'string', default: '10000' },
    queries: { type: 'string', default: '2000' },
    backlog: { type: 'string', default: '1000000' },
    'live-queries': { type: 'string', default: '300' },
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
const backlog = positiveInteger('backlog', flags.backlog);
const liveQueries = positiveInteger('live-queries', flags['live-queries']);

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

/** Latency percentiles of a set of queries, in milliseconds. */
interface QueryLatency {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

function latencyOf(latencies: number[]): QueryLatency {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number): number => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN, 2);
  return { count: sorted.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: round(sorted.at(-1) ?? Number.NaN, 2) };
}

/** GETs over one keep-alive connection, resolving with the status once the body is read. */
function queryClient(): (url: string) => Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return (url) =>
    new Promise((resolve, reject) => {
      httpGet(url, { agent }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      }).on('error', reject);
    });
}

const query = queryClient();

/** The URL of a query for the `i`-th key of `prefix`-N keys (JSON keys, as the job stores them). */
function keyUrl(url: string, prefix: string, i: number): string {
  return `${url}/stores/counts/keys/${encodeURIComponent(JSON.stringify(`${prefix}${(i * 7919) % keys}`))}`;
}

/** A timed query: when it ended and how long it took (ms, `performance.now()`). */
interface TimedQuery {
  readonly end: number;
  readonly ms: number;
}

/**
 * Queries one after another while `more()` holds, each timed from its request to the end
 * of its answer; only queries during which `counts()` held throughout are kept.
 */
async function queryWhile(url: (i: number) => string, more: () => boolean, counts: () => boolean = () => true): Promise<TimedQuery[]> {
  const timed: TimedQuery[] = [];
  for (let i = 0; more(); i++) {
    const before = counts();
    const t0 = performance.now();
    const status = await query(url(i));
    const end = performance.now();
    if (status !== 200) throw new Error(`a query answered ${status}`);
    if (before && counts()) timed.push({ end, ms: end - t0 });
  }
  return timed;
}

const msOf = (timed: readonly TimedQuery[]): number[] => timed.map((q) => q.ms);

/** A process of its own running `code` with node. */
function nodeProcess(code: string): ChildProcess {
  return spawn(process.execPath, ['-e', code], { env: childEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
}

/**
 * The floor: `queries` queries against a server that answers at once, in a process of its
 * own, alone and then beside two processes that each keep a core busy.
 */
async function floor(): Promise<{ idle: QueryLatency; twoBusyCores: QueryLatency }> {
  const server = nodeProcess("const s = require('node:http').createServer((q, r) => r.end('{}')).listen(0, '127.0.0.1', () => console.log(s.address().port))");
  try {
    const [chunk] = (await once(server.stdout!, 'data')) as [Buffer];
    const base = `http://127.0.0.1:${Number(chunk.toString().trim())}`;
    const run = async (): Promise<QueryLatency> => {
      let n = 0;
      return latencyOf(msOf(await queryWhile((i) => keyUrl(base, 'key-', i), () => n++ < queries)));
    };
    const idle = await run();
    const burners = [nodeProcess('for (;;) {}'), nodeProcess('for (;;) {}')];
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return { idle, twoBusyCores: await run() };
    } finally {
      for (const burner of burners) burner.kill('SIGKILL');
    }
  } finally {
    server.kill('SIGKILL');
  }
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
  const child = spawn(process.execPath, [...COORDINATOR_NODE_FLAGS, join(DIST, 'runtime', 'cli', 'main.js'), 'run', '-c', configPath], {
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
  // The input topic exists, holding the backlog, before the job starts.
  await seedLocalLog(join(dir.path, 'log'), 'events', 8, backlog, keys);
  const { url, stop } = jobProcess ? await startJobProcess(config, configPath) : await startJobInProcess(config);
  while ((await fetch(`${url}/readyz`)).status !== 200) await new Promise((resolve) => setTimeout(resolve, 5));

  // 1. Queries while the job works through the backlog at full speed. Progress is read
  // from /metrics every 250 ms (each scrape is a control call to every worker); a query is
  // kept if it ended before the last scrape that still found records to process.
  let backlogDone = false;
  let lastBusy = 0;
  const backlogStarted = performance.now();
  const watchBacklog = (async () => {
    for (;;) {
      const asked = performance.now();
      if ((await processed(url)) >= backlog) break;
      lastBusy = asked;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    backlogDone = true;
  })();
  const backlogQueries = await queryWhile((i) => keyUrl(url, 'user-', i), () => !backlogDone);
  await watchBacklog;
  const backlogSeconds = (performance.now() - backlogStarted) / 1000;
  const duringBacklog = msOf(backlogQueries.filter((q) => q.end <= lastBusy));

  // 2. Live produce alone.
  const total = requests * lines;
  const started = performance.now();
  const produceSeconds = await produceAll(url, 0);
  while ((await processed(url)) < backlog + total) await new Promise((resolve) => setTimeout(resolve, 20));
  const endToEndSeconds = (performance.now() - started) / 1000;

  // 3. Queries while rounds of live produce run.
  const duringProduce: number[] = [];
  let rounds = 0;
  while (duringProduce.length < liveQueries && rounds < 20) {
    rounds++;
    let producing = true;
    const load = produceAll(url, rounds * requests).finally(() => (producing = false));
    duringProduce.push(...msOf(await queryWhile((i) => keyUrl(url, 'key-', i), () => producing, () => producing)));
    await load;
  }

  // 4. Queries on the idle job.
  while ((await processed(url)) < backlog + total * (rounds + 1)) await new Promise((resolve) => setTimeout(resolve, 20));
  let idleQueries = 0;
  const idle = msOf(await queryWhile((i) => keyUrl(url, 'key-', i), () => idleQueries++ < queries));
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
        queries: {
          duringBacklog: { ...latencyOf(duringBacklog), backlog, processedRecordsPerSecond: round(backlog / backlogSeconds) },
          duringProduce: { ...latencyOf(duringProduce), produceRounds: rounds },
          idle: latencyOf(idle),
          floor: await floor(),
        },
        loadAverage: loadAverage(),
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await dir.cleanup();
}
