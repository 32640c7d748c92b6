/**
 * What a crash costs under at-least-once, per commit interval: the records a restart
 * processes again and how long it takes to catch up.
 *
 * Each round and interval runs the count job (examples/count/pipeline.ts, 8 partitions, the
 * local log) in a child process through the public API while a producer in the same
 * process appends at a steady rate (latency-schedule.ts); after `--seconds` the child is
 * killed with SIGKILL, producer and job alike. Then `weir run --until-idle --json` restarts
 * the job on the same log and state directory. The count job emits one output per input,
 * so outputs − inputs, once the restart is done, is the number of records processed twice:
 * those routed after their partition's last checkpoint. Under at-least-once a partition is
 * checkpointed once per interval (in slices, docs/semantics.md §8.2), so on average about
 * half an interval's records are replayed. The restart's wall time includes starting the
 * workers and opening the state, and the records the killed job never read.
 *
 *   node dist/bench/crash-replay.bench.js [--rounds 3] [--rate 55000] [--seconds 40]
 *       [--intervals 5,30] [--keys 100000]
 *
 * Prints one JSON document.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/index.js';
import { App } from '../runtime/app.js';
import { COORDINATOR_NODE_FLAGS } from '../runtime/coordinator-heap.js';
import { LocalLogBackend } from '../shared/log/local/local-log-backend.js';
import { recordsInTopic } from '../examples/count/count-events.js';
import { CountEventSchedule, STEP_MS } from './latency-schedule.js';
import {
  childEnv,
  COUNT_PIPELINE_TS,
  DIST,
  loadAverage,
  localJobYaml,
  median,
  numberList,
  parseRunSummary,
  positiveInteger,
  REPO_ROOT,
  round,
  runNodeChild,
  tempDir,
} from './bench-support.js';

const PARTITIONS = 8;
/** What the child prints once the job runs and the producer appends. */
const PRODUCING = 'producing';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    rate: { type: 'string', default: '55000' },
    seconds: { type: 'string', default: '40' },
    intervals: { type: 'string', default: '5,30' },
    keys: { type: 'string', default: '100000' },
    child: { type: 'string' },
    interval: { type: 'string' },
  },
});
const rate = positiveInteger('rate', values.rate);
const keys = positiveInteger('keys', values.keys);

function jobYaml(interval: number): string {
  return localJobYaml({
    appId: 'count',
    pipeline: COUNT_PIPELINE_TS,
    partitions: PARTITIONS,
    output: '{ topics: [counts] }',
    extra: ['processingGuarantee: at-least-once', `commitInterval: ${interval}`],
  });
}

/** Child: the job and the producer, until killed. */
async function runUntilKilled(dir: string, interval: number): Promise<never> {
  await mkdir(dir, { recursive: true });
  const configPath = join(dir, 'weir.yaml');
  await writeFile(configPath, jobYaml(interval));
  const config = await loadConfig(configPath, childEnv());
  const backend = await LocalLogBackend.open(join(dir, 'log'));
  await backend.createTopic('events', PARTITIONS);
  const app = await App.create(config, backend);
  void app.run({ log: (m) => process.stderr.write(`${m}\n`) }).catch((error: unknown) => {
    process.stderr.write(`the job failed: ${String(error)}\n`);
    process.exit(1);
  });
  const producer = await backend.producer();
  const schedule = new CountEventSchedule({ rate, keys, partitions: PARTITIONS, startedAt: Date.now() });
  process.stdout.write(`${PRODUCING}\n`);
  for (;;) {
    const due = schedule.due();
    if (due !== undefined) await producer.appendBatches(due.batches.map(({ partition, batch }) => ({ topic: 'events', partition, batch })));
    await new Promise((resolve) => setTimeout(resolve, STEP_MS));
  }
}

interface RoundResult {
  readonly intervalSeconds: number;
  readonly killedAfterSeconds: number;
  readonly inputRecords: number;
  readonly restartRecords: number;
  readonly replayedRecords: number;
  readonly replayedSeconds: number;
  readonly restartWallSeconds: number;
  readonly loadAverage: { readonly start: number[]; readonly end: number[] };
}

/** Parent: one kill and restart at `interval`. */
async function crashAndRestart(dir: string, interval: number, seconds: number): Promise<RoundResult> {
  const loadAtStart = loadAverage();
  const child = spawn(process.execPath, [...COORDINATOR_NODE_FLAGS, join(DIST, 'bench', 'crash-replay.bench.js'), '--child', dir, '--interval', String(interval), '--rate', String(rate), '--keys', String(keys)], {
    env: childEnv(),
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes(PRODUCING)) resolve();
    });
    void exited.then(() => reject(new Error('the job exited before it was killed')));
  });
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  child.kill('SIGKILL');
  await exited;

  const restart = await runNodeChild(
    [...COORDINATOR_NODE_FLAGS, join(DIST, 'runtime', 'cli', 'main.js'), 'run', '-c', join(dir, 'weir.yaml'), '--until-idle', '--json'],
    { label: `restart at ${interval} s` },
  );
  const summary = parseRunSummary(restart.stdout);
  const backend = await LocalLogBackend.open(join(dir, 'log'));
  const [inputs, outputs] = [await recordsInTopic(backend, 'events'), await recordsInTopic(backend, 'counts')];
  await backend.close();
  if (outputs < inputs) throw new Error(`interval ${interval} s: ${inputs - outputs} outputs missing after the restart`);
  return {
    intervalSeconds: interval,
    killedAfterSeconds: seconds,
    inputRecords: inputs,
    restartRecords: summary.records,
    replayedRecords: outputs - inputs,
    replayedSeconds: round((outputs - inputs) / rate, 2),
    restartWallSeconds: round(restart.wallSeconds, 2),
    loadAverage: { start: loadAtStart, end: loadAverage() },
  };
}

if (values.child !== undefined) {
  await runUntilKilled(values.child, Number(values.interval));
}

const rounds = positiveInteger('rounds', values.rounds);
const seconds = positiveInteger('seconds', values.seconds);
const intervals = numberList('intervals', values.intervals);
const loadAverageAtStart = loadAverage();
const dir = await tempDir('weir-bench-crash-replay-');
try {
  const results = new Map<number, RoundResult[]>();
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < intervals.length; i++) {
      const interval = intervals[(i + r) % intervals.length]!;
      const result = await crashAndRestart(join(dir.path, `${r}-${i}`), interval, seconds);
      results.set(interval, [...(results.get(interval) ?? []), result]);
      process.stderr.write(
        `round ${r + 1} interval ${interval} s: ${result.replayedRecords} records replayed (${result.replayedSeconds} s of input), ` +
          `restart ${result.restartWallSeconds} s for ${result.restartRecords} records\n`,
      );
    }
  }
  const report: Record<string, unknown> = {};
  for (const [interval, rows] of results) {
    report[`${interval}s`] = {
      rounds: rows,
      median: {
        replayedRecords: median(rows.map((x) => x.replayedRecords)),
        restartWallSeconds: median(rows.map((x) => x.restartWallSeconds)),
      },
    };
  }
  process.stdout.write(
    JSON.stringify(
      {
        bench: 'crash-replay',
        job: 'count (examples/count/pipeline.ts), local log, 8 partitions, at-least-once, SIGKILL then weir run --until-idle',
        rate,
        keys,
        killedAfterSeconds: seconds,
        rounds,
        intervals: report,
        loadAverage: { start: loadAverageAtStart, end: loadAverage() },
      },
      null,
      2,
    ) + '\n',
  );
} finally {
  await dir.cleanup();
}
