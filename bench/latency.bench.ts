/**
 * Append → output-visible latency of the count job while it runs continuously (not until
 * idle) and a producer appends records at a steady rate.
 *
 * Each scenario runs in its own child process (a fresh local log and state): the job runs
 * in-process through the public API (`App.create(config, backend)`, `app.run({ signal })`)
 * on one `LocalLogBackend`, and the same backend instance serves
 * - the producer (latency-schedule.ts: every ~5 ms the records the rate calls for since
 *   the start, 100 k keys, `{n, amount}` values like `npm start`, encoded as one record
 *   batch per partition and stamped with `Date.now()` when built), appended by the job's
 *   thread with `appendBatches`, touching no record, as for a live-produce request. With
 *   `--producer thread` (the default) a worker thread builds the batches and posts them,
 *   so a record's latency includes its wait for the job's thread to append it, as a
 *   producer in another process would see it; with `--producer main` the job's thread
 *   builds each step's batches and awaits their append before the next (the bench's
 *   form before the thread: records stamped just before their append call); and
 * - the observer: a group consumer of its own group on the output topic, whose
 *   `pollBatches` wakes on every append in the process; the batch sets go to a worker
 *   thread (latency-observer-thread.ts) with the time of the poll. An output of the count
 *   job carries its input's timestamp, so its latency is that time − the record's timestamp.
 * With the producer and the observer decoding records on the job's thread (before), the
 * bench itself capped the rate near 90 k records/s and its duplicate check grew the
 * process to 0.5–1 GB, so latency at half the job's maximum rate could not be measured.
 * After a warm-up, records appended during the measuring window are counted; the
 * producer then stops and the bench waits for their outputs (up to twice the commit
 * interval + 10 s) before stopping the job with its signal. Outputs that never showed up
 * are reported as missing, outputs seen twice (a key's count not above its last) as
 * duplicates (and left out of the latencies). Each round also splits the latency in two:
 * `inputAppendMs`, the input's part (records stamped → their append durable, per append:
 * the producer's wait for the job's thread and the log's write), and `fromDurableMs`, the
 * job's own part per record (its input durable, readable by the job → its output visible).
 * On a machine whose cores are all busy the input's part holds much of the tail. And it
 * reports when the tail happened (`slowInTime`: outputs later than 50 ms per second of the
 * window): at 55 k records/s beside two busy processes they came in the seconds of the
 * at-least-once checkpoint slices, with none between them.
 *
 * Scenarios: `alos` (at-least-once, default commit interval), `alos:S` (at-least-once,
 * commit interval S seconds), `eos:S` (exactly-once, commit interval S seconds).
 * Rounds rotate the order of the scenarios. Prints one JSON document.
 *
 *   node dist/bench/latency.bench.js [--rounds 3] [--rate 2000] [--seconds 20] [--warmup 5]
 *       [--scenarios alos,eos:0.1,eos:0.5,eos:1,eos:5] [--workers N] [--keys 100000]
 *       [--producer thread|main]
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { COORDINATOR_NODE_FLAGS } from '../runtime/coordinator-heap.js';
import { loadConfig } from '../config/index.js';
import { App, type RunSummary } from '../runtime/app.js';
import { LocalLogBackend } from '../shared/log/local/local-log-backend.js';
import type { InputAppended, ObservedSets, ObserverProgress, ObserverResult, ObserverStart } from './latency-observer-thread.js';
import type { ProducedBatches, ProducerStopped } from './latency-producer-thread.js';
import { CountEventSchedule, STEP_MS, type ScheduledBatches, type ScheduleOptions } from './latency-schedule.js';
import {
  childEnv,
  COUNT_PIPELINE_TS,
  DIST,
  loadAverage,
  median,
  MIB,
  positiveInteger,
  round,
  runNodeChild,
  tempDir,
} from './bench-support.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    rate: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    scenarios: { type: 'string', default: 'alos,eos:0.1,eos:0.5,eos:1,eos:5' },
    workers: { type: 'string' },
    producer: { type: 'string', default: 'thread' },
    keys: { type: 'string', default: '100000' },
    child: { type: 'string' },
  },
});

const PARTITIONS = 8;

/** Where the input is generated and encoded (see the module comment). */
const producerMode = values.producer;
if (producerMode !== 'thread' && producerMode !== 'main') throw new Error(`--producer: thread or main, got ${producerMode}`);

interface Scenario {
  readonly name: string;
  readonly guarantee: 'at-least-once' | 'exactly-once';
  /** Seconds; undefined = the config default. */
  readonly commitInterval: number | undefined;
}

function parseScenario(text: string): Scenario {
  const [kind, interval] = text.trim().split(':') as [string, string | undefined];
  const guarantee = kind === 'alos' ? 'at-least-once' : kind === 'eos' ? 'exactly-once' : undefined;
  if (guarantee === undefined) throw new Error(`--scenarios: alos, alos:S or eos:S, got ${text}`);
  const commitInterval = interval === undefined ? undefined : Number(interval);
  if (commitInterval !== undefined && !(commitInterval >= 0)) throw new Error(`--scenarios: bad commit interval in ${text}`);
  return { name: text.trim(), guarantee, commitInterval };
}

/** Percentiles, max and mean of a set of latencies, ms. */
interface LatencyDistribution {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

interface ScenarioResult {
  readonly scenario: string;
  readonly guarantee: string;
  readonly commitIntervalSeconds: number | null;
  readonly workers: number;
  readonly rate: number;
  readonly measuredSeconds: number;
  readonly sentInWindow: number;
  readonly observedInWindow: number;
  readonly missing: number;
  /** Outputs seen more than once (same key and count): the count job emits each (key, count) once. */
  readonly duplicates: number;
  /** Outputs the observer could not read as the count job's (`"user-N"` key, a count value): none expected. */
  readonly unreadable: number;
  /** Stamped (built, just before the append call) → output visible to the observer's poll. */
  readonly latencyMs: LatencyDistribution;
  /**
   * The job's own part: the input's append durable (readable by the job) → output visible.
   * A record's `latencyMs` is this plus its append's `inputAppendMs`.
   */
  readonly fromDurableMs: LatencyDistribution;
  /**
   * When the tail happened: outputs later than 50 ms per second of the window (by input
   * stamp), the seconds that had any, and the worst of them. A tail spread over most
   * seconds is the machine's; one packed into a few seconds is an event of the job's.
   */
  readonly slowInTime: { readonly secondsWithSlow: number; readonly slowOutputs: number; readonly worst: { second: number; slow: number; maxMs: number }[] };
  /** Input records appended per second in the window (the producer's achieved rate). */
  readonly appendedPerSecond: number;
  /** Outputs of the window's inputs per second of window. */
  readonly observedPerSecond: number;
  /** Largest delay of an append behind its schedule (the producer keeping up), ms. */
  readonly producerMaxLagMs: number;
  /**
   * The input's part of the latency: a step's records stamped → their append durable (so
   * readable by the job), per append of the window, ms. The rest of `latencyMs` is the
   * job's read, processing and output append, and the observer's read.
   */
  readonly inputAppendMs: LatencyDistribution;
  /**
   * How late the job's thread (the coordinator, which every record passes through several
   * times) ran its event loop in the window (`monitorEventLoopDelay`, 1 ms resolution):
   * the time it was busy with one thing, or waiting for a core, while others waited.
   */
  readonly eventLoopDelayMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly job: {
    readonly records: number;
    readonly seconds: number;
    readonly checkpoints: number;
    readonly coordinatorCpuSeconds: number;
    readonly workerCpuSeconds: number[];
    /**
     * CPU of the whole process while the job ran (every thread: the job's, the bench's
     * producer and observer, libuv's pool, V8's helpers and LevelDB's background
     * compaction thread, which the job's own figures leave out).
     */
    readonly processCpuSeconds: number;
  };
  readonly peakRssMiB: number;
  readonly loadAverage: { start: number[]; end: number[] };
}

function percentile(sorted: Float32Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The distribution of latencies sorted ascending. */
function distribution(sorted: Float32Array): LatencyDistribution {
  let total = 0;
  for (const l of sorted) total += l;
  return {
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    p999: percentile(sorted, 0.999),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
    mean: round(total / Math.max(1, sorted.length), 1),
  };
}

function slowInTime(slowBySecond: Uint32Array, maxBySecond: Float32Array): ScenarioResult['slowInTime'] {
  const seconds = [...slowBySecond].map((slow, second) => ({ second, slow, maxMs: maxBySecond[second]! }));
  return {
    secondsWithSlow: seconds.filter((s) => s.slow > 0).length,
    slowOutputs: seconds.reduce((sum, s) => sum + s.slow, 0),
    worst: seconds.filter((s) => s.slow > 0).sort((a, b) => b.slow - a.slow).slice(0, 8),
  };
}

async function peakRssBytes(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One scenario, in this (child) process. */
async function runScenario(scenario: Scenario, dir: string, rate: number, seconds: number, warmup: number, keys: number, workers: number | undefined): Promise<ScenarioResult> {
  const loadAtStart = loadAverage();
  await mkdir(dir, { recursive: true });
  const configPath = join(dir, 'weir.yaml');
  await writeFile(
    configPath,
    [
      'appId: count',
      'log: { backend: local, path: ./log }',
      'state: { dir: ./state }',
      'input: { topics: [events] }',
      'output: { topics: [counts] }',
      `pipeline: ${JSON.stringify(COUNT_PIPELINE_TS)}`,
      `partitions: ${PARTITIONS}`,
      `processingGuarantee: ${scenario.guarantee}`,
      ...(scenario.commitInterval === undefined ? [] : [`commitInterval: ${scenario.commitInterval}`]),
      ...(workers === undefined ? [] : [`workers: ${workers}`]),
    ].join('\n') + '\n',
  );
  const config = await loadConfig(configPath, childEnv());
  const backend = await LocalLogBackend.open(config.log.backend === 'local' ? config.log.path : join(dir, 'log'));
  await backend.createTopic('events', PARTITIONS);
  const app = await App.create(config, backend);
  const controller = new AbortController();
  const cpuAtStart = process.cpuUsage();
  const running: Promise<RunSummary> = app.run({ signal: controller.signal, log: (m) => process.stderr.write(`${m}\n`) });
  let jobFailed: unknown;
  running.catch((error: unknown) => (jobFailed = error));

  const producer = await backend.producer();
  const observer = await backend.consumer(`latency-observer-${process.pid}`);
  await observer.subscribe(['counts'], { onAssign: async () => {}, onRevoke: async () => {} });

  const started = Date.now();
  const windowStart = started + warmup * 1000;
  const windowEnd = windowStart + seconds * 1000;
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  const loopDelayStart = setTimeout(() => loopDelay.enable(), windowStart - Date.now());
  const observerThread = new Worker(new URL('./latency-observer-thread.js', import.meta.url));
  const threadFailed = (error: Error) => (jobFailed ??= error);
  observerThread.on('error', threadFailed);
  let observedInWindow = 0;
  observerThread.on('message', (message: ObserverProgress | ObserverResult) => {
    if ('progress' in message) observedInWindow = message.observedInWindow;
  });
  observerThread.postMessage({
    kind: 'start',
    keys,
    windowStart,
    windowEnd,
    capacity: Math.ceil(rate * seconds * 1.2) + 1000,
  } satisfies ObserverStart);

  // The observer's polls: batch sets straight to the observer thread, no record decoded here.
  let observing = true;
  const observe = (async () => {
    while (observing) {
      const sets = await observer.pollBatches(10_000, 20);
      if (sets.length === 0) continue;
      const observedAt = Date.now();
      const buffers = [...new Set(sets.map((s) => s.buffer))];
      observerThread.postMessage({ kind: 'sets', sets: sets.map((s) => s.buffer), observedAt } satisfies ObservedSets, buffers);
    }
  })();

  // The input: appended as it comes (the log orders appends by call).
  let sentInWindow = 0;
  let producerMaxLagMs = 0;
  const inputAppendMs: number[] = [];
  const appends = new Set<Promise<unknown>>();
  const append = (due: ScheduledBatches): void => {
    producerMaxLagMs = Math.max(producerMaxLagMs, Date.now() - due.scheduledAt);
    const inWindow = due.timestamp >= windowStart && due.timestamp < windowEnd;
    if (inWindow) sentInWindow += due.count;
    const appended = producer
      .appendBatches(due.batches.map(({ partition, batch }) => ({ topic: 'events', partition, batch })))
      .then(() => {
        const durableAt = Date.now();
        if (inWindow) inputAppendMs.push(durableAt - due.timestamp);
        observerThread.postMessage({ kind: 'appended', timestamp: due.timestamp, durableAt } satisfies InputAppended);
      })
      .catch(threadFailed)
      .finally(() => appends.delete(appended));
    appends.add(appended);
  };
  const scheduleOptions: ScheduleOptions = { rate, keys, partitions: PARTITIONS, startedAt: started };
  if (producerMode === 'thread') {
    const producerThread = new Worker(new URL('./latency-producer-thread.js', import.meta.url));
    producerThread.on('error', threadFailed);
    const producerStopped = new Promise<void>((resolve) => {
      producerThread.on('message', (message: ProducedBatches | ProducerStopped) => {
        if (message.kind === 'stopped') resolve();
        else append(message);
      });
    });
    producerThread.postMessage(scheduleOptions);
    while (Date.now() < windowEnd && jobFailed === undefined) await sleep(20);
    producerThread.postMessage('stop');
    await producerStopped;
    await producerThread.terminate();
  } else {
    // On the job's thread, each step's append waited for before the next (the bench's
    // form until the producer thread): records are stamped just before their append call.
    const schedule = new CountEventSchedule(scheduleOptions);
    while (Date.now() < windowEnd && jobFailed === undefined) {
      const due = schedule.due();
      if (due !== undefined) {
        append(due);
        await Promise.all(appends);
      }
      await sleep(STEP_MS);
    }
  }
  clearTimeout(loopDelayStart);
  loopDelay.disable();
  await Promise.all(appends);
  const drainUntil = Date.now() + ((scenario.commitInterval ?? config.commitInterval) * 2 + 10) * 1000;
  while (observedInWindow < sentInWindow && Date.now() < drainUntil && jobFailed === undefined) await sleep(20);
  observing = false;
  await observe;
  const observed = new Promise<ObserverResult>((resolve) =>
    observerThread.on('message', (message: ObserverProgress | ObserverResult) => {
      if (!('progress' in message)) resolve(message);
    }),
  );
  observerThread.postMessage('finish');
  const { latencies: measured, latenciesFromDurable, duplicates, unreadable, observedInWindow: observedInWindowAtEnd, slowBySecond, maxBySecond } = await observed;
  await observerThread.terminate();
  controller.abort();
  const summary = await running;
  const processCpu = process.cpuUsage(cpuAtStart);
  await observer.close();
  await producer.close();
  await backend.close();
  if (jobFailed !== undefined) throw jobFailed;

  return {
    scenario: scenario.name,
    guarantee: scenario.guarantee,
    commitIntervalSeconds: config.commitInterval,
    workers: config.workers,
    rate,
    measuredSeconds: seconds,
    sentInWindow,
    observedInWindow: observedInWindowAtEnd,
    missing: Math.max(0, sentInWindow - observedInWindowAtEnd),
    unreadable,
    duplicates,
    latencyMs: distribution(measured),
    fromDurableMs: distribution(latenciesFromDurable),
    slowInTime: slowInTime(slowBySecond, maxBySecond),
    appendedPerSecond: Math.round(sentInWindow / seconds),
    observedPerSecond: Math.round(observedInWindowAtEnd / seconds),
    producerMaxLagMs: Math.round(producerMaxLagMs),
    inputAppendMs: distribution(Float32Array.from(inputAppendMs).sort()),
    eventLoopDelayMs: {
      p50: round(loopDelay.percentile(50) / 1e6, 1),
      p99: round(loopDelay.percentile(99) / 1e6, 1),
      max: round(loopDelay.max / 1e6, 1),
    },
    job: {
      records: summary.records,
      seconds: round(summary.seconds, 2),
      checkpoints: summary.checkpoints,
      coordinatorCpuSeconds: round(summary.coordinatorCpuSeconds, 2),
      workerCpuSeconds: summary.workers.map((w) => round(w.cpuSeconds, 2)),
      processCpuSeconds: round((processCpu.user + processCpu.system) / 1e6, 2),
    },
    peakRssMiB: round((await peakRssBytes()) / MIB, 1),
    loadAverage: { start: loadAtStart, end: loadAverage() },
  };
}

const rate = positiveInteger('rate', values.rate);
const seconds = positiveInteger('seconds', values.seconds);
const warmup = Number(values.warmup);
const keys = positiveInteger('keys', values.keys);
const workers = values.workers === undefined ? undefined : positiveInteger('workers', values.workers);

if (values.child !== undefined) {
  // Child mode: --child DIR plus the scenario in --scenarios.
  const result = await runScenario(parseScenario(values.scenarios), values.child, rate, seconds, warmup, keys, workers);
  process.stdout.write(JSON.stringify(result) + '\n');
  // Stray timers of the job must not keep the child alive.
  process.exit(0);
}

const ROUNDS = positiveInteger('rounds', values.rounds);
const scenarios = values.scenarios.split(',').map(parseScenario);
const loadAverageAtStart = loadAverage();
const dir = await tempDir('weir-bench-latency-');
try {
  const results: Record<string, ScenarioResult[]> = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < scenarios.length; i++) {
      const scenario = scenarios[(i + r) % scenarios.length]!;
      const child = await runNodeChild(
        [
          ...COORDINATOR_NODE_FLAGS,
          join(DIST, 'bench', 'latency.bench.js'),
          '--child', join(dir.path, `${r}-${i}`),
          '--scenarios', scenario.name,
          '--rate', String(rate),
          '--seconds', String(seconds),
          '--warmup', String(warmup),
          '--keys', String(keys),
          '--producer', producerMode,
          ...(workers === undefined ? [] : ['--workers', String(workers)]),
        ],
        { label: `latency scenario ${scenario.name}` },
      );
      const result = JSON.parse(child.stdout.trim().split('\n').pop()!) as ScenarioResult;
      (results[scenario.name] ??= []).push(result);
      process.stderr.write(
        `round ${r + 1} ${scenario.name}: p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, max ${result.latencyMs.max} ms ` +
          `(input append p99 ${result.inputAppendMs.p99} ms; durable → visible p99 ${result.fromDurableMs.p99} ms; job thread late p99 ${result.eventLoopDelayMs.p99} ms; process CPU ${result.job.processCpuSeconds} s), ` +
          `${result.observedPerSecond} outputs/s, missing ${result.missing}, duplicates ${result.duplicates}; ` +
          `over 50 ms: ${result.slowInTime.slowOutputs} outputs in ${result.slowInTime.secondsWithSlow} s, worst seconds ${result.slowInTime.worst.map((w) => `${w.second}:${w.slow}`).join(' ')}\n`,
      );
    }
  }
  const report: Record<string, unknown> = {};
  for (const scenario of scenarios) {
    const rounds = results[scenario.name]!;
    report[scenario.name] = {
      rounds: rounds.map((x, i) => ({
        round: i + 1,
        latencyMs: x.latencyMs,
        fromDurableMs: x.fromDurableMs,
        slowInTime: x.slowInTime,
        appendedPerSecond: x.appendedPerSecond,
        observedPerSecond: x.observedPerSecond,
        sentInWindow: x.sentInWindow,
        observedInWindow: x.observedInWindow,
        missing: x.missing,
        duplicates: x.duplicates,
        unreadable: x.unreadable,
        producerMaxLagMs: x.producerMaxLagMs,
        inputAppendMs: x.inputAppendMs,
        checkpoints: x.job.checkpoints,
        coordinatorCpuSeconds: x.job.coordinatorCpuSeconds,
        workerCpuSeconds: x.job.workerCpuSeconds,
        processCpuSeconds: x.job.processCpuSeconds,
        eventLoopDelayMs: x.eventLoopDelayMs,
        peakRssMiB: x.peakRssMiB,
        loadAverage: x.loadAverage,
      })),
      guarantee: rounds[0]!.guarantee,
      commitIntervalSeconds: rounds[0]!.commitIntervalSeconds,
      workers: rounds[0]!.workers,
      median: {
        p50Ms: median(rounds.map((x) => x.latencyMs.p50)),
        p99Ms: median(rounds.map((x) => x.latencyMs.p99)),
        fromDurableP99Ms: median(rounds.map((x) => x.fromDurableMs.p99)),
        maxMs: median(rounds.map((x) => x.latencyMs.max)),
        appendedPerSecond: median(rounds.map((x) => x.appendedPerSecond)),
        observedPerSecond: median(rounds.map((x) => x.observedPerSecond)),
      },
    };
  }
  process.stdout.write(
    JSON.stringify(
      {
        bench: 'latency',
        job: 'count (examples/count/pipeline.ts), local log, 8 partitions, in-process App',
        producer: producerMode,
        rate,
        keys,
        warmupSeconds: warmup,
        measuredSeconds: seconds,
        rounds: ROUNDS,
        scenarios: report,
        targets: { atLeastOnceP99MsAtMost: 50, exactlyOnceP99MsAtMost: 'commit interval + 50' },
        loadAverage: { start: loadAverageAtStart, end: loadAverage() },
      },
      null,
      2,
    ) + '\n',
  );
} finally {
  await dir.cleanup();
}
