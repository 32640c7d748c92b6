/**
 * Recovery in detail: the count job runs once on the local log (1 M records, 100 k keys,
 * a long commit interval so the changelog holds ~one record per key per checkpoint), its
 * state is cleared, and the rebuild is timed two ways — from the start of the run (thread
 * start-up and opening the store partitions included) and from the first applied chunk
 * (steady-state replay) — beside a raw classic-level batch write of as many records.
 *
 *   node dist/bench/recovery.bench.js [--records N] [--keys K]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ClassicLevel } from 'classic-level';
import { loadConfig } from '../config/index.js';
import { LocalLogBackend } from '../shared/log/local/local-log-backend.js';
import { runJob } from '../runtime/job-runner.js';
import { clearState } from '../runtime/state-inspection.js';

const { values } = parseArgs({
  options: { records: { type: 'string', default: '1000000' }, keys: { type: 'string', default: '100000' } },
});
const RECORDS = Number(values.records);
const KEYS = Number(values.keys);
const encoder = new TextEncoder();
const quiet = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;

const dir = await mkdtemp(join(tmpdir(), 'weir-bench-recovery-'));
try {
  await writeFile(
    join(dir, 'pipeline.mjs'),
    `export default { stores: { counts: { preload: ['count'] } }, process(record, context) {
      const state = context.state('counts'); state.set('count', state.get('count', 0) + 1); } };`,
  );
  await writeFile(
    join(dir, 'weir.yaml'),
    ['appId: bench', 'log: { backend: local, path: ./log }', 'state: { dir: ./state }', 'input: { topics: [events] }',
      'pipeline: ./pipeline.mjs', 'partitions: 8', 'workers: 2', 'commitInterval: 2'].join('\n'),
  );
  const backend = await LocalLogBackend.open(join(dir, 'log'));
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

  const config = await loadConfig(join(dir, 'weir.yaml'));
  await runJob(config, { untilIdle: true, stream: quiet });
  await clearState(config);
  const started = performance.now();
  let firstApplied = 0;
  let appliedAtFirst = 0;
  let last = started;
  const recovered = new Map<number, number>();
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
      recovered.set(p.partition, p.recovered);
    },
  });
  const total = summary.recoveredRecords;

  const db = new ClassicLevel<Uint8Array, Uint8Array>(join(dir, 'raw'), { keyEncoding: 'view', valueEncoding: 'view' });
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
  process.stdout.write(
    JSON.stringify(
      {
        bench: 'recovery',
        records: RECORDS,
        changelogRecordsReplayed: total,
        fromRunStartPerSecond: Math.round(fromStart),
        steadyStatePerSecond: Math.round(steady),
        rawClassicLevelBatchWritePerSecond: Math.round(raw),
        fromRunStartVsRaw: fromStart / raw,
        steadyStateVsRaw: steady / raw,
        target: { vsRaw: 0.5 },
      },
      null,
      2,
    ) + '\n',
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
