/**
 * The count job end to end on the local log beside the hand-written single-thread loop on
 * raw classic-level (bench/handwritten-count-loop.ts), rounds interleaved in one run.
 *
 * - Input: 1 M records over 100 k keys, 8 partitions (the events `npm start` generates),
 *   seeded once (not timed) into a weir local log and into the loop's own database; every
 *   run works on a fresh copy of them, with fresh state.
 * - weir runs as a user runs it: `weir run -c weir.yaml --until-idle --workers N --json`
 *   in a child process under GNU time (peak RSS), config defaults (at-least-once,
 *   commit interval 30 s), the pipeline written in TypeScript (examples/count/pipeline.ts,
 *   loaded through weir's normal loader, i.e. tsx) and, in the same run, the same
 *   pipeline as plain `.mjs` (examples/count/count-pipeline-source.ts).
 * - The loop runs in a child process too, on a copy of its seeded database.
 * - Per round, the runs go in a rotated order so load changes hit every variant alike.
 *
 * Reported per run and round: records/s (weir's own summary: from the start of the run
 * to the end of the final checkpoint; the wall time of the whole process too), the ratio
 * to the loop of the same round, coordinator busy µs per input record and worker busy µs
 * per processed record (weir's summary: event-loop busy time, which on a loaded machine
 * also counts time a thread waited for a core), the CPU time of the coordinator thread and
 * of all other threads per record (sampled from /proc, not inflated by waiting), process
 * CPU µs per record (GNU time), peak RSS; medians over the rounds; and os.loadavg() at
 * the start and end. Prints one JSON document.
 *
 *   node dist/bench/count-job.bench.js [--rounds 3] [--records 1000000] [--keys 100000]
 *       [--workers 1,2] [--variants ts,mjs,tsv8] [--no-loop]
 *
 * Variant `tsv8`: the TypeScript pipeline with the workers' heaps left at V8's defaults
 * for this machine (old generation 4,096 MB ≈ V8's 4,144, young generation 48 MB) instead
 * of weir's `limits.workerMaxOldGenerationMb` / `workerMaxYoungGenerationMb`: the memory
 * settings before those limits, measured in the same run.
 */
import { mkdir, rm, writeFile, cp } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { countPipelineSource } from '../examples/count/count-pipeline-source.js';
import {
  COUNT_PIPELINE_TS,
  localJobYaml,
  loadAverage,
  median,
  MIB,
  numberList,
  positiveInteger,
  round,
  runWeirUntilIdle,
  seedLocalLog,
  tempDir,
  weirRunMetrics,
  type WeirRunMetrics,
} from './bench-support.js';
import { runHandwrittenLoopChild, seedHandwrittenInput } from './handwritten-count-loop.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    records: { type: 'string', default: '1000000' },
    keys: { type: 'string', default: '100000' },
    workers: { type: 'string', default: '1,2' },
    variants: { type: 'string', default: 'ts,mjs' },
    'no-loop': { type: 'boolean', default: false },
  },
});
const ROUNDS = positiveInteger('rounds', values.rounds);
const RECORDS = positiveInteger('records', values.records);
const KEYS = positiveInteger('keys', values.keys);
const PARTITIONS = 8;
const WORKERS = numberList('workers', values.workers);
const VARIANTS = values.variants.split(',').map((v) => v.trim());
for (const v of VARIANTS) if (v !== 'ts' && v !== 'mjs' && v !== 'tsv8') throw new Error(`--variants: ts, mjs and/or tsv8, got ${v}`);
/** Extra config lines per variant. */
const VARIANT_CONFIG: Record<string, string[]> = {
  tsv8: ['limits: { workerMaxOldGenerationMb: 4096, workerMaxYoungGenerationMb: 48 }'],
};

interface WeirRound extends WeirRunMetrics {
  readonly round: number;
  readonly wallRecordsPerSecond: number;
  readonly vsLoop: number | null;
  readonly workerCpuSeconds: number[];
  readonly coordinatorCpuSeconds: number;
  /** CPU time of every other thread (workers, GC, libuv) per record, µs. */
  readonly otherThreadsCpuMicrosPerRecord: number | null;
  /** The busiest other threads' CPU seconds (the workers first, usually). */
  readonly topOtherThreadsCpuSeconds: number[] | null;
}

interface LoopRound {
  readonly round: number;
  readonly recordsPerSecond: number;
  readonly seconds: number;
  readonly peakRssMiB: number | null;
  readonly loadAverageAtStart: number[];
}

type RunName = string;

async function runWeir(
  dir: string,
  seededLog: string,
  pipeline: string,
  workers: number,
  roundNo: number,
  extraConfig: readonly string[] = [],
): Promise<Omit<WeirRound, 'vsLoop'>> {
  const runDir = join(dir, `run-${roundNo}-${workers}-${Date.now()}`);
  await mkdir(runDir, { recursive: true });
  try {
    await cp(seededLog, join(runDir, 'log'), { recursive: true });
    const config = join(runDir, 'weir.yaml');
    await writeFile(
      config,
      localJobYaml({ appId: 'count', output: '{ topics: [counts] }', pipeline, partitions: PARTITIONS, extra: extraConfig }),
    );
    const { child, summary } = await runWeirUntilIdle(config, workers, RECORDS, `weir run (workers=${workers})`);
    return {
      round: roundNo,
      ...weirRunMetrics(child, summary),
      wallRecordsPerSecond: Math.round(summary.records / child.wallSeconds),
      coordinatorCpuSeconds: round(summary.coordinatorCpuSeconds, 2),
      workerCpuSeconds: summary.workers.map((w) => round(w.cpuSeconds, 2)),
      otherThreadsCpuMicrosPerRecord:
        child.otherThreadsCpuSeconds === null ? null : round((child.otherThreadsCpuSeconds.reduce((a, b) => a + b, 0) * 1e6) / summary.records, 2),
      topOtherThreadsCpuSeconds: child.otherThreadsCpuSeconds === null ? null : child.otherThreadsCpuSeconds.slice(0, 4).map((x) => round(x, 2)),
    };
  } finally {
    await rm(runDir, { recursive: true, force: true });
  }
}

const loadAverageAtStart = loadAverage();
const dir = await tempDir('weir-bench-count-');
try {
  const mjsPipeline = join(dir.path, 'pipeline.mjs');
  await writeFile(mjsPipeline, countPipelineSource());
  const pipelines: Record<string, string> = { ts: COUNT_PIPELINE_TS, mjs: mjsPipeline, tsv8: COUNT_PIPELINE_TS };

  const seedStarted = performance.now();
  const seededLog = join(dir.path, 'seed-log');
  await seedLocalLog(seededLog, 'events', PARTITIONS, RECORDS, KEYS);
  const seededLoop = join(dir.path, 'seed-loop');
  if (!values['no-loop']) await seedHandwrittenInput(seededLoop, { records: RECORDS, keys: KEYS, partitions: PARTITIONS });
  const seedSeconds = (performance.now() - seedStarted) / 1000;

  const names: RunName[] = [
    ...(values['no-loop'] ? [] : ['loop']),
    ...VARIANTS.flatMap((variant) => WORKERS.map((w) => `${variant}-workers${w}`)),
  ];
  const loopRounds: LoopRound[] = [];
  const weirRounds: Record<RunName, WeirRound[]> = {};
  for (let r = 0; r < ROUNDS; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]!);
    const results = new Map<RunName, Omit<WeirRound, 'vsLoop'>>();
    let loopRate: number | null = null;
    for (const name of order) {
      if (name === 'loop') {
        const loop = await runHandwrittenLoopChild(seededLoop, dir.path, PARTITIONS);
        if (loop.records !== RECORDS) throw new Error(`the loop processed ${loop.records} records, expected ${RECORDS}`);
        loopRate = loop.recordsPerSecond;
        loopRounds.push({
          round: r + 1,
          recordsPerSecond: Math.round(loop.recordsPerSecond),
          seconds: round(loop.seconds, 2),
          peakRssMiB: loop.peakRssBytes === null ? null : round(loop.peakRssBytes / MIB, 1),
          loadAverageAtStart: loop.loadAverageAtStart,
        });
        process.stderr.write(`round ${r + 1} loop: ${Math.round(loop.recordsPerSecond)} records/s\n`);
        continue;
      }
      const [variant, workersPart] = name.split('-') as [string, string];
      const workers = Number(workersPart.replace('workers', ''));
      const result = await runWeir(dir.path, seededLog, pipelines[variant]!, workers, r + 1, VARIANT_CONFIG[variant]);
      results.set(name, result);
      process.stderr.write(`round ${r + 1} ${name}: ${result.recordsPerSecond} records/s, peak RSS ${result.peakRssMiB} MiB\n`);
    }
    for (const [name, result] of results) {
      (weirRounds[name] ??= []).push({ ...result, vsLoop: loopRate === null ? null : round(result.recordsPerSecond / loopRate, 3) });
    }
  }

  const medianOrNull = (values: (number | null)[]): number | null =>
    values.some((x) => x === null) ? null : round(median(values as number[]), 2);
  const summarize = (rounds: WeirRound[]) => ({
    recordsPerSecond: Math.round(median(rounds.map((x) => x.recordsPerSecond))),
    wallRecordsPerSecond: Math.round(median(rounds.map((x) => x.wallRecordsPerSecond))),
    vsLoop: rounds[0]?.vsLoop === null ? null : round(median(rounds.map((x) => x.vsLoop!)), 3),
    coordinatorBusyMicrosPerRecord: round(median(rounds.map((x) => x.coordinatorBusyMicrosPerRecord)), 2),
    workerBusyMicrosPerRecord: round(median(rounds.map((x) => x.workerBusyMicrosPerRecord)), 2),
    processCpuMicrosPerRecord: medianOrNull(rounds.map((x) => x.processCpuMicrosPerRecord)),
    coordinatorThreadCpuMicrosPerRecord: medianOrNull(rounds.map((x) => x.coordinatorThreadCpuMicrosPerRecord)),
    otherThreadsCpuMicrosPerRecord: medianOrNull(rounds.map((x) => x.otherThreadsCpuMicrosPerRecord)),
    peakRssMiB: rounds.some((x) => x.peakRssMiB === null) ? null : round(median(rounds.map((x) => x.peakRssMiB!)), 1),
  });
  const weir: Record<string, unknown> = {};
  for (const [name, rounds] of Object.entries(weirRounds)) weir[name] = { rounds, median: summarize(rounds) };

  // TS vs .mjs pipeline: per round ratio of records/s, same worker count.
  const tsVsMjs: Record<string, unknown> = {};
  for (const w of WORKERS) {
    const ts = weirRounds[`ts-workers${w}`];
    const mjs = weirRounds[`mjs-workers${w}`];
    if (ts === undefined || mjs === undefined) continue;
    const ratios = ts.map((t, i) => round(t.recordsPerSecond / mjs[i]!.recordsPerSecond, 3));
    tsVsMjs[`workers${w}`] = { perRound: ratios, median: round(median(ratios), 3) };
  }

  process.stdout.write(
    JSON.stringify(
      {
        bench: 'count-job',
        records: RECORDS,
        keys: KEYS,
        partitions: PARTITIONS,
        rounds: ROUNDS,
        config: 'defaults (at-least-once, commitInterval 30, local log); weir run --until-idle --workers N in a child process',
        seedSeconds: round(seedSeconds, 1),
        handWrittenLoop: loopRounds.length === 0 ? null : {
          rounds: loopRounds,
          median: { recordsPerSecond: Math.round(median(loopRounds.map((x) => x.recordsPerSecond))) },
        },
        weir,
        tsVsMjsRecordsPerSecond: tsVsMjs,
        targets: {
          workers2VsLoop: 1.5,
          workers1VsLoop: 0.9,
          coordinatorBusyMicrosPerRecordAtMost: 2,
          workerBusyMicrosPerRecordAtMost: 15,
          tsVsMjs: 1,
        },
        loadAverage: { start: loadAverageAtStart, end: loadAverage() },
      },
      null,
      2,
    ) + '\n',
  );
} finally {
  await dir.cleanup();
}
