/**
 * Peak RSS of `npm start` (dist/examples/count/start.js: the count job on the local log,
 * defaults, the TypeScript pipeline) with 1 M and 5 M input records, each run in a child
 * process under GNU time (`/usr/bin/time -v`, "Maximum resident set size").
 *
 * Cases:
 * - `fresh-1000000`: an empty log, so start.js generates its 1 M events first and then
 *   runs the job (what a user's first `npm start` does; generation is inside the peak).
 * - `seeded-N`: a log already holding N events (the same generator as start.js, seeded
 *   once, not timed, copied fresh for every run), so start.js finds them and only runs
 *   the job over all N (start.js runs whatever the topic holds once it holds ≥ 1 M).
 * The log and state live in a temporary folder (WEIR_LOG__PATH, WEIR_STATE__DIR), never
 * in the repository's `.weir/`. Rounds rotate the order of the cases.
 *
 * Reported per case and round: peak RSS, records/s and seconds from start.js's summary,
 * wall time, coordinator and worker busy µs per record, load average; medians; and the
 * ratio of the largest seeded size's peak RSS to the smallest's. Prints one JSON document.
 *
 *   node dist/bench/memory.bench.js [--rounds 3] [--sizes 1000000,5000000] [--no-fresh]
 */
import { cp, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { COORDINATOR_NODE_FLAGS } from '../runtime/coordinator-heap.js';
import {
  childEnv,
  DIST,
  loadAverage,
  median,
  numberList,
  parseRunSummary,
  positiveInteger,
  round,
  runNodeChild,
  seedLocalLog,
  tempDir,
  weirRunMetrics,
  type WeirRunMetrics,
} from './bench-support.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    sizes: { type: 'string', default: '1000000,5000000' },
    'no-fresh': { type: 'boolean', default: false },
  },
});
const ROUNDS = positiveInteger('rounds', values.rounds);
const SIZES = numberList('sizes', values.sizes);
for (const size of SIZES) if (size < 1_000_000) throw new Error('--sizes: start.js needs at least 1,000,000 events in the log');
/** examples/count/start.ts's own numbers. */
const KEYS = 100_000;
const PARTITIONS = 8;
const START_EVENTS = 1_000_000;

interface CaseRound extends WeirRunMetrics {
  readonly round: number;
}

const loadAverageAtStart = loadAverage();
const dir = await tempDir('weir-bench-memory-');
try {
  const seeds = new Map<string, string>();
  const cases: { name: string; records: number; seed: string | undefined }[] = [];
  if (!values['no-fresh']) cases.push({ name: `fresh-${START_EVENTS}`, records: START_EVENTS, seed: undefined });
  const seedSeconds: Record<string, number> = {};
  for (const size of SIZES) {
    const seed = join(dir.path, `seed-${size}`, 'log');
    const started = performance.now();
    await seedLocalLog(seed, 'events', PARTITIONS, size, KEYS);
    seedSeconds[`seeded-${size}`] = round((performance.now() - started) / 1000, 1);
    seeds.set(`seeded-${size}`, seed);
    cases.push({ name: `seeded-${size}`, records: size, seed });
    process.stderr.write(`seeded ${size} events in ${seedSeconds[`seeded-${size}`]} s\n`);
  }

  const results: Record<string, CaseRound[]> = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < cases.length; i++) {
      const c = cases[(i + r) % cases.length]!;
      const runDir = join(dir.path, `run-${r}-${i}`);
      await mkdir(runDir, { recursive: true });
      try {
        if (c.seed !== undefined) await cp(c.seed, join(runDir, 'log'), { recursive: true });
        const child = await runNodeChild([...COORDINATOR_NODE_FLAGS, join(DIST, 'examples', 'count', 'start.js')], {
          env: childEnv({ WEIR_LOG__PATH: join(runDir, 'log'), WEIR_STATE__DIR: join(runDir, 'state') }),
          label: `npm start (${c.name})`,
        });
        const summary = parseRunSummary(child.stdout);
        if (summary.records !== c.records) throw new Error(`${c.name}: the job processed ${summary.records} records, expected ${c.records}`);
        const result: CaseRound = { round: r + 1, ...weirRunMetrics(child, summary) };
        (results[c.name] ??= []).push(result);
        process.stderr.write(`round ${r + 1} ${c.name}: peak RSS ${result.peakRssMiB} MiB, ${result.recordsPerSecond} records/s\n`);
      } finally {
        await rm(runDir, { recursive: true, force: true });
      }
    }
  }

  const report: Record<string, unknown> = {};
  const medianRss: Record<string, number> = {};
  for (const c of cases) {
    const rounds = results[c.name]!;
    const rss = rounds.every((x) => x.peakRssMiB !== null) ? round(median(rounds.map((x) => x.peakRssMiB!)), 1) : null;
    if (rss !== null) medianRss[c.name] = rss;
    report[c.name] = {
      records: c.records,
      rounds,
      median: {
        peakRssMiB: rss,
        recordsPerSecond: Math.round(median(rounds.map((x) => x.recordsPerSecond))),
        coordinatorBusyMicrosPerRecord: round(median(rounds.map((x) => x.coordinatorBusyMicrosPerRecord)), 2),
        workerBusyMicrosPerRecord: round(median(rounds.map((x) => x.workerBusyMicrosPerRecord)), 2),
      },
    };
  }
  const smallest = `seeded-${Math.min(...SIZES)}`;
  const largest = `seeded-${Math.max(...SIZES)}`;
  process.stdout.write(
    JSON.stringify(
      {
        bench: 'memory',
        job: 'npm start (dist/examples/count/start.js): count job, local log, defaults, TypeScript pipeline',
        keys: KEYS,
        partitions: PARTITIONS,
        rounds: ROUNDS,
        seedSeconds,
        cases: report,
        peakRssLargestVsSmallest:
          SIZES.length > 1 && medianRss[smallest] !== undefined && medianRss[largest] !== undefined
            ? round(medianRss[largest]! / medianRss[smallest]!, 3)
            : null,
        targets: { peakRssMiBAtMost: 300, largestVsSmallestAtMost: 1.1 },
        loadAverage: { start: loadAverageAtStart, end: loadAverage() },
      },
      null,
      2,
    ) + '\n',
  );
} finally {
  await dir.cleanup();
}
