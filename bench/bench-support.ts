/**
 * Helpers shared by the benchmarks in this folder: medians, load averages, seeding a
 * local log with the count job's input (examples/count/count-events.ts, the same events
 * as `npm start`) through its public producer, the weir.yaml of a job on the local log,
 * running a child process (or `weir run`) while measuring its wall time and peak RSS,
 * and parsing the run summary weir prints.
 *
 * Nothing here is timed by a benchmark except what a benchmark wraps around it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COORDINATOR_NODE_FLAGS } from '../runtime/coordinator-heap.js';
import { LocalLogBackend } from '../shared/log/local/local-log-backend.js';
import { appendCountEvents } from '../examples/count/count-events.js';

/** The repository root (this file runs as dist/bench/bench-support.js). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The compiled tree (dist/). */
export const DIST = join(REPO_ROOT, 'dist');
/** The count job's pipeline as users write it: TypeScript, loaded by weir through tsx. */
export const COUNT_PIPELINE_TS = join(REPO_ROOT, 'examples', 'count', 'pipeline.ts');

/** A real median: the middle value, or the mean of the two middle values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** `os.loadavg()` rounded to two decimals: [1 min, 5 min, 15 min]. */
export function loadAverage(): number[] {
  return loadavg().map((n) => Math.round(n * 100) / 100);
}

export function round(n: number, digits = 0): number {
  const factor = 10 ** digits;
  return Math.round(n * factor) / factor;
}

/** A positive integer from a flag, or a clear error. */
export function positiveInteger(name: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${raw}`);
  return value;
}

/** A comma-separated list of numbers. */
export function numberList(name: string, raw: string): number[] {
  const values = raw.split(',').map((s) => Number(s.trim()));
  if (values.length === 0 || values.some((v) => !Number.isFinite(v) || v < 0)) throw new Error(`--${name}: expected numbers, got ${raw}`);
  return values;
}

/** A fresh temporary folder, removed by `cleanup` (unless `keep`). */
export async function tempDir(prefix: string): Promise<{ path: string; cleanup(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/**
 * The environment for a weir child process: the parent's, without `WEIR_…` config
 * overrides someone may have exported (they would change what is measured), plus `extra`.
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('WEIR_')) env[name] = value;
  delete env['NODE_OPTIONS'];
  return { ...env, ...extra };
}

// ---------------------------------------------------------------------------------------
// The count job's input
// ---------------------------------------------------------------------------------------

/**
 * Appends the count job's input to topic `topic` of the local log at `logPath` through
 * the backend's public producer (batches of 10,000, keys JSON-encoded, partition by the
 * default partitioner), the way `npm start` generates it. Not timed by any benchmark.
 */
export async function seedLocalLog(
  logPath: string,
  topic: string,
  partitions: number,
  records: number,
  keys: number,
  /** How values are written (default JSON); the formats bench seeds Avro with it. */
  encodeValue?: (value: unknown) => Uint8Array,
): Promise<void> {
  const backend = await LocalLogBackend.open(logPath);
  try {
    await backend.createTopic(topic, partitions);
    const producer = await backend.producer();
    await appendCountEvents(producer, topic, partitions, records, keys, { encodeValue });
    await producer.close();
  } finally {
    await backend.close();
  }
}

/** What a bench's job on the local log configures (see {@link localJobYaml}). */
export interface LocalJob {
  readonly appId: string;
  /** The pipeline module's path (absolute, or relative to the config file). */
  readonly pipeline: string;
  readonly partitions: number;
  /** The `input` mapping; default `{ topics: [events] }`. */
  readonly input?: string;
  /** The `output` mapping, if the job has one. */
  readonly output?: string;
  /** More top-level lines (limits, workers, schemaRegistry, …). */
  readonly extra?: readonly string[];
}

/** The weir.yaml of a bench's job on the local log, its log in ./log and its state in ./state beside the file. */
export function localJobYaml(job: LocalJob): string {
  return [
    `appId: ${job.appId}`,
    'log: { backend: local, path: ./log }',
    'state: { dir: ./state }',
    `input: ${job.input ?? '{ topics: [events] }'}`,
    ...(job.output === undefined ? [] : [`output: ${job.output}`]),
    `pipeline: ${JSON.stringify(job.pipeline)}`,
    `partitions: ${job.partitions}`,
    ...(job.extra ?? []),
  ].join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------

export interface ChildResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** From spawn to exit. */
  readonly wallSeconds: number;
  /** The child's maximum resident set size (GNU time's "Maximum resident set size"), or null. */
  readonly peakRssBytes: number | null;
  /** User + system CPU of the child (every thread), seconds, or null. */
  readonly cpuSeconds: number | null;
  /**
   * CPU time of the node process's main thread (weir's coordinator), seconds, from
   * /proc/<pid>/task/<pid>/stat sampled every 200 ms (so up to ~0.2 s short), or null.
   * Unlike event-loop busy time it does not count time the thread waited for a core.
   */
  readonly mainThreadCpuSeconds: number | null;
  /** The same for every other thread of the process, largest first (workers, GC and libuv helpers). */
  readonly otherThreadsCpuSeconds: number[] | null;
  readonly loadAverageAtStart: number[];
}

const CLOCK_TICKS = 100;

/** utime + stime of one thread, seconds, or undefined when it is gone. */
async function threadCpuSeconds(pid: number, tid: string): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Samples every thread's CPU time of the node process `rootPid` is or runs (under GNU time). */
class ThreadCpuSampler {
  private readonly last = new Map<string, number>();
  private nodePid: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;

  constructor(private readonly rootPid: number, private readonly rootIsNode: boolean) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), 200);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async findNode(): Promise<number | undefined> {
    if (this.rootIsNode) return this.rootPid;
    const children = await readFile(`/proc/${this.rootPid}/task/${this.rootPid}/children`, 'utf8').catch(() => '');
    const first = children.trim().split(/\s+/)[0];
    return first === undefined || first === '' ? undefined : Number(first);
  }

  private async sample(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      this.nodePid ??= await this.findNode();
      const pid = this.nodePid;
      if (pid === undefined) return;
      const tids = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
      for (const tid of tids) {
        const cpu = await threadCpuSeconds(pid, tid);
        if (cpu !== undefined) this.last.set(tid, cpu);
      }
    } finally {
      this.sampling = false;
    }
  }

  result(): { main: number | null; others: number[] | null } {
    if (this.nodePid === undefined || this.last.size === 0) return { main: null, others: null };
    const main = this.last.get(String(this.nodePid)) ?? null;
    const others = [...this.last].filter(([tid]) => tid !== String(this.nodePid)).map(([, cpu]) => cpu).filter((cpu) => cpu > 0);
    return { main, others: others.sort((a, b) => b - a) };
  }
}

const GNU_TIME = '/usr/bin/time';

/**
 * Runs `node args…` in a child process under GNU time (`/usr/bin/time -v`, when present)
 * and returns its output, wall time, peak RSS and CPU time. Throws when it exits non-zero.
 */
export async function runNodeChild(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; label?: string } = {},
): Promise<ChildResult> {
  const timed = existsSync(GNU_TIME);
  const report = join(tmpdir(), `weir-bench-time-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
  const command = timed ? GNU_TIME : process.execPath;
  const commandArgs = timed ? ['-v', '-o', report, process.execPath, ...args] : [...args];
  const loadAverageAtStart = loadAverage();
  const started = performance.now();
  const child = spawn(command, commandArgs, { env: options.env ?? childEnv(), cwd: options.cwd ?? REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const sampler = child.pid === undefined ? undefined : new ThreadCpuSampler(child.pid, !timed);
  sampler?.start();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode) => resolvePromise(exitCode));
  });
  const wallSeconds = (performance.now() - started) / 1000;
  sampler?.stop();
  const threads = sampler?.result() ?? { main: null, others: null };
  let peakRssBytes: number | null = null;
  let cpuSeconds: number | null = null;
  if (timed) {
    const text = await readFile(report, 'utf8').catch(() => '');
    await rm(report, { force: true });
    const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(text);
    if (rss) peakRssBytes = Number(rss[1]) * 1024;
    const user = /User time \(seconds\): ([\d.]+)/.exec(text);
    const system = /System time \(seconds\): ([\d.]+)/.exec(text);
    if (user && system) cpuSeconds = Number(user[1]) + Number(system[1]);
  }
  if (code !== 0) {
    throw new Error(`${options.label ?? 'child'} exited with ${code}:\n${stderr.slice(-4000)}\n${stdout.slice(-2000)}`);
  }
  return {
    code,
    stdout,
    stderr,
    wallSeconds,
    peakRssBytes,
    cpuSeconds,
    mainThreadCpuSeconds: threads.main,
    otherThreadsCpuSeconds: threads.others,
    loadAverageAtStart,
  };
}

// ---------------------------------------------------------------------------------------
// weir's run summary
// ---------------------------------------------------------------------------------------

export interface ParsedSummary {
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  readonly coordinatorCpuSeconds: number;
  readonly workers: readonly { readonly records: number; readonly cpuSeconds: number }[];
  /** What weir itself printed as peak RSS, when it prints it (bytes). */
  readonly reportedPeakRssBytes?: number;
  /** What weir itself printed as coordinator µs per record, when it prints it. */
  readonly reportedCoordinatorMicrosPerRecord?: number;
}

/**
 * The summary of `weir run --json` (one JSON document) or of `weir run` / `npm start`
 * (the text lines of formatSummary: `records/s: …`, `coordinator cpu: … s`,
 * `worker i: N records, M recovered, cpu S s`). Tolerant of added lines and fields.
 */
export function parseRunSummary(stdout: string): ParsedSummary {
  for (const line of stdout.split('\n').reverse()) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{')) continue;
    try {
      const json = JSON.parse(trimmed) as Record<string, unknown>;
      if (typeof json['records'] !== 'number') continue;
      const workers = (json['workers'] as { records: number; cpuSeconds: number }[] | undefined) ?? [];
      const peak = json['peakRssBytes'];
      const coordinatorMicros = json['coordinatorMicrosPerRecord'];
      return {
        records: json['records'] as number,
        seconds: json['seconds'] as number,
        recordsPerSecond: json['recordsPerSecond'] as number,
        coordinatorCpuSeconds: json['coordinatorCpuSeconds'] as number,
        workers: workers.map((w) => ({ records: w.records, cpuSeconds: w.cpuSeconds })),
        ...(typeof peak === 'number' ? { reportedPeakRssBytes: peak } : {}),
        ...(typeof coordinatorMicros === 'number' ? { reportedCoordinatorMicrosPerRecord: coordinatorMicros } : {}),
      };
    } catch {
      // not the summary line
    }
  }
  const number = (pattern: RegExp): number | undefined => {
    const match = pattern.exec(stdout);
    return match ? Number(match[1]) : undefined;
  };
  const records = number(/^records: (\d+)/m);
  const seconds = number(/^seconds: ([\d.]+)/m);
  const rate = number(/^records\/s: ([\d.]+)/m);
  const coordinator = number(/^coordinator cpu: ([\d.]+) s/m);
  if (records === undefined || seconds === undefined || rate === undefined || coordinator === undefined) {
    throw new Error(`cannot parse the run summary from:\n${stdout.slice(-2000)}`);
  }
  const workers = [...stdout.matchAll(/^worker \d+: (\d+) records,.*cpu ([\d.]+) s/gm)].map((m) => ({
    records: Number(m[1]),
    cpuSeconds: Number(m[2]),
  }));
  const rss = /peak RSS:? ([\d.]+) ?(KiB|MiB|GiB|kB|MB|GB|B)\b/i.exec(stdout);
  // weir prints bytes / 1024² as MiB (before 2026-12-03 labelled "MB"): read the decimal-looking units as binary too.
  const units: Record<string, number> = { b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
  const micros = number(/coordinator[^\n]*?([\d.]+) µs/);
  return {
    records,
    seconds,
    recordsPerSecond: rate,
    coordinatorCpuSeconds: coordinator,
    workers,
    ...(rss ? { reportedPeakRssBytes: Number(rss[1]) * units[rss[2]!.toLowerCase()]! } : {}),
    ...(micros !== undefined ? { reportedCoordinatorMicrosPerRecord: micros } : {}),
  };
}

/** Busy time per record of the coordinator (per input record) and of the workers (per processed record), µs. */
export function busyMicrosPerRecord(summary: ParsedSummary): { coordinator: number; worker: number } {
  const workerRecords = summary.workers.reduce((n, w) => n + w.records, 0);
  const workerCpu = summary.workers.reduce((n, w) => n + w.cpuSeconds, 0);
  return {
    coordinator: summary.records > 0 ? (summary.coordinatorCpuSeconds * 1e6) / summary.records : Number.NaN,
    worker: workerRecords > 0 ? (workerCpu * 1e6) / workerRecords : Number.NaN,
  };
}

export const MIB = 1024 * 1024;

/**
 * Runs `weir run -c <config> --until-idle --workers N --json` in a child process (see
 * {@link runNodeChild}) and parses its summary; throws unless it processed `expectedRecords`.
 */
export async function runWeirUntilIdle(
  config: string,
  workers: number,
  expectedRecords: number,
  label: string,
): Promise<{ child: ChildResult; summary: ParsedSummary }> {
  const child = await runNodeChild(
    [...COORDINATOR_NODE_FLAGS, join(DIST, 'runtime', 'cli', 'main.js'), 'run', '-c', config, '--until-idle', '--workers', String(workers), '--json'],
    { label },
  );
  const summary = parseRunSummary(child.stdout);
  if (summary.records !== expectedRecords) throw new Error(`${label}: weir processed ${summary.records} records, expected ${expectedRecords}`);
  return { child, summary };
}

/** What the count-job and memory benches report of one weir run in a child process. */
export interface WeirRunMetrics {
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  readonly wallSeconds: number;
  readonly coordinatorBusyMicrosPerRecord: number;
  readonly workerBusyMicrosPerRecord: number;
  readonly processCpuMicrosPerRecord: number | null;
  /** CPU time of the coordinator (main) thread per input record, µs (sampled from /proc; not inflated by waiting for a core, unlike busy time). */
  readonly coordinatorThreadCpuMicrosPerRecord: number | null;
  readonly peakRssMiB: number | null;
  readonly reportedPeakRssMiB?: number;
  readonly loadAverageAtStart: number[];
}

/** The {@link WeirRunMetrics} of a run from its child process's measurements and weir's summary. */
export function weirRunMetrics(child: ChildResult, summary: ParsedSummary): WeirRunMetrics {
  const busy = busyMicrosPerRecord(summary);
  const cpuPerRecord = (seconds: number | null): number | null => (seconds === null ? null : round((seconds * 1e6) / summary.records, 2));
  return {
    records: summary.records,
    seconds: round(summary.seconds, 2),
    recordsPerSecond: Math.round(summary.recordsPerSecond),
    wallSeconds: round(child.wallSeconds, 2),
    coordinatorBusyMicrosPerRecord: round(busy.coordinator, 2),
    workerBusyMicrosPerRecord: round(busy.worker, 2),
    processCpuMicrosPerRecord: cpuPerRecord(child.cpuSeconds),
    coordinatorThreadCpuMicrosPerRecord: cpuPerRecord(child.mainThreadCpuSeconds),
    peakRssMiB: child.peakRssBytes === null ? null : round(child.peakRssBytes / MIB, 1),
    ...(summary.reportedPeakRssBytes !== undefined ? { reportedPeakRssMiB: round(summary.reportedPeakRssBytes / MIB, 1) } : {}),
    loadAverageAtStart: child.loadAverageAtStart,
  };
}
