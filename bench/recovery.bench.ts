/**
 * Recovery in detail: the count job runs once on the local log (1 M records, 100 k keys,
 * a long commit interval so the changelog holds ~one record per key per checkpoint), its
 * state is cleared, and the rebuild is timed two ways — from the start of the run (thread
 * start-up and opening the store partitions included) and from the first applied chunk
 * (steady-state replay) — beside a raw classic-level batch write of as many records.
 * The input is seeded once (not timed); every round works on a fresh copy of it (fresh
 * log, state and changelog), so rounds are alike. Every round is shown, with medians.
 *
 *   node dist/bench/recovery.bench.js [--rounds 3] [--records N] [--keys K]
 */
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ClassicLevel } from 'classic-level';
import { loadConfig } from '../config/index.js';
import { LocalLogBackend } from '../shared/log/local/local-log-backend.js';
import { runJob } from '../runtime/job-runner.js';
import { clearState } from '../runtime/state-inspection.js';
import { childEnv, localJobYaml, loadAverage, median, positiveInteger, round, tempDir } from './bench-support.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    keys: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '3' },
  },
});
const RECORDS = positiveInteger('records', values.records);
const KEYS = positiveInteger('keys', values.keys);
const ROUNDS = positiveInteger('rounds', values.rounds);
const encoder = new TextEncoder();
const quiet = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;

interface RecoveryRound {
  readonly round: number;
  readonly changelogRecordsReplayed: number;
  readonly fromRunStartPerSecond: number;
  readonly steadyStatePerSecond: number;
  readonly rawClassicLevelBatchWritePerSecond: number;
  readonly fromRunStartVsRaw: number;
  readonly steadyStateVsRaw: number;
  readonly loadAverageAtStart: number[];
}

async function oneRound(dir: string, seededLog: string, roundNo: number): Promise<RecoveryRound> {
  const load = loadAverage();
  const runDir = join(dir, `round-${roundNo}`);
  await mkdir(runDir, { recursive: true });
  try {
    await cp(seededLog, join(runDir, 'log'), { recursive: true });
    await writeFile(
      join(runDir, 'pipeline.mjs'),
      `export default { stores: { counts: { preload: ['count'] } }, process(record, context) {
      const state = context.state('counts'); state.set('count', state.get('count', 0) + 1); } };`,
    );
    await writeFile(
      join(runDir, 'weir.yaml'),
      localJobYaml({ appId: 'bench', pipeline: './pipeline.mjs', partitions: 8, extra: ['workers: 2', 'commitInterval: 2'] }),
    );
    const config = await loadConfig(join(runDir, 'weir.yaml'), childEnv());
    await runJob(config, { untilIdle: true, stream: quiet });
    await clearState(config);
    const started = performance.now();
    let firstApplied = 0;
    let appliedAtFirst = 0;
    let last = started;
    const summary = await runJob(config, {
      untilIdle: true,
      stream: quiet,
      onRecoveryProgress: (p) => {
        const now = performance.now();
        if (firstApplied === 0) {
          firstApplied = now;
          appliedAtFirst = p.recovered;
        }
        last = now;
      },
    });
    const total = summary.recoveredRecords;

    const db = new ClassicLevel<Uint8Array, Uint8Array>(join(runDir, 'raw'), { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    const rawStart = performance.now();
    for (let i = 0; i < total; i += 20_000) {
      const batch = db.batch();
      for (let j = i; j < Math.min(total, i + 20_000); j++) batch.put(encoder.encode(`"user-${j % KEYS}"|"count"`), encoder.encode(String(j)));
      await batch.write();
    }
    const raw = total / ((performance.now() - rawStart) / 1000);
    await db.close();

    const fromStart = total / ((last - started) / 1000);
    const steady = (total - appliedAtFirst) / ((last - firstApplied) / 1000);
    return {
      round: roundNo,
      changelogRecordsReplayed: total,
      fromRunStartPerSecond: Math.round(fromStart),
      steadyStatePerSecond: Math.round(steady),
      rawClassicLevelBatchWritePerSecond: Math.round(raw),
      fromRunStartVsRaw: round(fromStart / raw, 3),
      steadyStateVsRaw: round(steady / raw, 3),
      loadAverageAtStart: load,
    };
  } finally {
    await rm(runDir, { recursive: true, force: true });
  }
}

const loadAverageAtStart = loadAverage();
const dir = await tempDir('weir-bench-recovery-');
try {
  const seededLog = join(dir.path, 'seed-log');
  const backend = await LocalLogBackend.open(seededLog);
  await backend.createTopic('events', 8);
  const producer = await backend.producer();
  for (let i = 0; i < RECORDS; i += 10_000) {
    await producer.append(
      Array.from({ length: Math.min(10_000, RECORDS - i) }, (_, j) => ({
        topic: 'events',
        key: encoder.encode(JSON.stringify(`user-${(i + j) * 7919 % KEYS}`)),
        value: encoder.encode('{}'),
      })),
    );
  }
  await producer.close();
  await backend.close();

  const rounds: RecoveryRound[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const result = await oneRound(dir.path, seededLog, r + 1);
    rounds.push(result);
    process.stderr.write(`round ${r + 1}: steady-state ${result.steadyStatePerSecond} records/s, ${result.steadyStateVsRaw}x raw\n`);
  }
  const med = (f: (x: RecoveryRound) => number, digits = 0) => round(median(rounds.map(f)), digits);
  process.stdout.write(
    JSON.stringify(
      {
        bench: 'recovery',
        records: RECORDS,
        rounds,
        median: {
          changelogRecordsReplayed: med((x) => x.changelogRecordsReplayed),
          fromRunStartPerSecond: med((x) => x.fromRunStartPerSecond),
          steadyStatePerSecond: med((x) => x.steadyStatePerSecond),
          rawClassicLevelBatchWritePerSecond: med((x) => x.rawClassicLevelBatchWritePerSecond),
          fromRunStartVsRaw: med((x) => x.fromRunStartVsRaw, 3),
          steadyStateVsRaw: med((x) => x.steadyStateVsRaw, 3),
        },
        target: { steadyStateVsRaw: 0.8 },
        loadAverage: { start: loadAverageAtStart, end: loadAverage() },
      },
      null,
      2,
    ) + '\n',
  );
} finally {
  await dir.cleanup();
}
