/**
 * Windowed jobs end to end on the local log, beside the count job in the same run:
 * a hopping window (10 s size, 1 s step: every record updates 10 windows) and a
 * session window (5 s inactivity gap), each averaging one field per key, final results
 * to an output topic. Each job runs through the `weir bench` engine with workers = 1
 * and 2 (fresh state per run, a child process per run, recovery measured after
 * dropping the state). Rounds rotate the order of the jobs; every round is shown, with
 * medians and the ratio of each windowed job's rate to the count job's in the same round.
 * Prints one JSON document.
 *
 *   node dist/bench/windows.bench.js [--rounds 3] [--records N] [--keys K]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runBench } from './engine/bench-runner.js';
import type { GeneratedInputSpec } from './engine/bench-options.js';
import { countPipelineSource } from '../examples/count/count-pipeline-source.js';
import { localJobYaml, loadAverage, median, positiveInteger, round } from './bench-support.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    keys: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
  },
});
const RECORDS = positiveInteger('records', values.records);
const KEYS = positiveInteger('keys', values.keys);
const ROUNDS = positiveInteger('rounds', values.rounds);
const PARTITIONS = 8;

const windowsModule = fileURLToPath(new URL('../shared/pipeline/windows.js', import.meta.url));
const definitionModule = fileURLToPath(new URL('../shared/pipeline/pipeline-definition.js', import.meta.url));

const PIPELINES: Record<string, string> = {
  count: countPipelineSource('out'),
  'hopping-10s-1s': `
import { definePipeline } from ${JSON.stringify(definitionModule)};
import { hoppingWindow, mean } from ${JSON.stringify(windowsModule)};
export default definePipeline({
  windows: { avg: hoppingWindow({ durationMs: 10000, stepMs: 1000, aggregate: mean((v) => v.x), emit: 'final', to: 'out' }) },
});`,
  'session-5s': `
import { definePipeline } from ${JSON.stringify(definitionModule)};
import { sessionWindow, mean } from ${JSON.stringify(windowsModule)};
export default definePipeline({
  windows: { avg: sessionWindow({ inactivityGapMs: 5000, aggregate: mean((v) => v.x), emit: 'final', to: 'out' }) },
});`,
};

/**
 * One record per ms of event time over KEYS uniform keys: each key sees a record about
 * every KEYS ms, so with 1,000 keys a key's hopping windows close about every second and
 * its sessions (5 s gap) only split where the random spacing exceeds the gap.
 */
const INPUT: GeneratedInputSpec = {
  kind: 'generated',
  records: RECORDS,
  keys: KEYS,
  distribution: 'uniform',
  zipfExponent: 1,
  value: { x: '{{random}}' },
  eventsPerSecond: 1_000,
  disorderMs: 0,
  startTimestamp: 1_700_000_000_000,
  seed: 7,
};

async function writeJob(dir: string, name: string): Promise<string> {
  const jobDir = join(dir, name);
  const { mkdir } = await import('node:fs/promises');
  await mkdir(jobDir, { recursive: true });
  await writeFile(join(jobDir, 'pipeline.mjs'), PIPELINES[name]!);
  const configPath = join(jobDir, 'weir.yaml');
  await writeFile(
    configPath,
    localJobYaml({ appId: `bench-${name}`, output: '{ topics: [out] }', pipeline: './pipeline.mjs', partitions: PARTITIONS }),
  );
  return configPath;
}

interface JobRun {
  readonly round: number;
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  readonly outputRecords: number;
  readonly changelogRecords: number;
  readonly workerCpuSeconds: number[];
  readonly peakRssBytes: number;
  readonly recoveryRecordsPerSecond: number | null;
  readonly loadAverageAtStart: number[];
}

const loadAverageAtStart = loadAverage();
const dir = await mkdtemp(join(tmpdir(), 'weir-bench-windows-'));
try {
  const names = Object.keys(PIPELINES);
  const configs: Record<string, string> = {};
  for (const name of names) configs[name] = await writeJob(dir, name);
  /** runs[job][workersN] = one entry per round. */
  const runs: Record<string, Record<string, JobRun[]>> = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length]!;
      const load = loadAverage();
      const report = await runBench({ configPath: configs[name]!, workers: [1, 2], input: INPUT });
      for (const run of report.runs) {
        ((runs[name] ??= {})[`workers${run.workers}`] ??= []).push({
          round: r + 1,
          records: run.records,
          seconds: round(run.seconds, 2),
          recordsPerSecond: Math.round(run.recordsPerSecond),
          outputRecords: run.outputRecords,
          changelogRecords: run.changelog.records,
          workerCpuSeconds: run.cpu.workers.map((w) => round(w.seconds, 2)),
          peakRssBytes: run.peakRssBytes,
          recoveryRecordsPerSecond: run.recovery.recordsPerSecond === null ? null : Math.round(run.recovery.recordsPerSecond),
          loadAverageAtStart: load,
        });
      }
      process.stderr.write(`weir bench windows: round ${r + 1} ${name} done\n`);
    }
  }
  const jobs: Record<string, unknown> = {};
  for (const name of names) {
    const byWorkers: Record<string, unknown> = {};
    for (const [workers, rounds] of Object.entries(runs[name]!)) {
      const recovery = rounds.map((x) => x.recoveryRecordsPerSecond).filter((x): x is number => x !== null);
      byWorkers[workers] = {
        rounds,
        median: {
          recordsPerSecond: Math.round(median(rounds.map((x) => x.recordsPerSecond))),
          recoveryRecordsPerSecond: recovery.length === 0 ? null : Math.round(median(recovery)),
          peakRssBytes: Math.round(median(rounds.map((x) => x.peakRssBytes))),
        },
      };
    }
    jobs[name] = byWorkers;
  }
  /** Each windowed job's records/s over the count job's, same round and worker count. */
  const vsCount: Record<string, unknown> = {};
  for (const name of names.filter((n) => n !== 'count')) {
    const entry: Record<string, unknown> = {};
    for (const workers of Object.keys(runs[name]!)) {
      const ratios = runs[name]![workers]!.map((x, i) => round(x.recordsPerSecond / runs['count']![workers]![i]!.recordsPerSecond, 3));
      entry[workers] = { perRound: ratios, median: round(median(ratios), 3) };
    }
    vsCount[name] = entry;
  }
  process.stdout.write(
    JSON.stringify(
      {
        bench: 'windows',
        records: RECORDS,
        keys: KEYS,
        partitions: PARTITIONS,
        rounds: ROUNDS,
        jobs,
        vsCount,
        target: { hoppingVsCount: 0.5 },
        loadAverage: { start: loadAverageAtStart, end: loadAverage() },
      },
      null,
      2,
    ) + '\n',
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
