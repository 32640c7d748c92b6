/**
 * The count job end to end on the local log: 1 M records, 100 k keys, with workers = 1
 * and 2, measured by the `weir bench` engine (runtime/bench/, so users and maintainers
 * measure the same way: fresh state per worker count, a child process per run, recovery
 * after dropping the state), beside a hand-written single-thread loop doing the same work
 * on the same generated input with the same libraries (read the log, getMany, update,
 * batch write, append changelog + outputs, commit offsets); then recovery throughput
 * (changelog records applied per second) beside a raw classic-level batch write of the
 * same number of records. Prints one JSON document.
 *
 *   node dist/bench/count-job.bench.js [--records N] [--keys K]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ClassicLevel } from 'classic-level';
import { LocalLogBackend } from '../shared/log/local/local-log-backend.js';
import type { AppendRecord, LogRecord } from '../shared/log/log-backend.js';
import { runBench } from '../runtime/bench/bench-runner.js';
import { openBenchInput } from '../runtime/bench/bench-input.js';
import type { GeneratedInputSpec } from '../runtime/bench/bench-options.js';
import { countPipelineSource } from '../examples/count/count-pipeline-source.js';

const { values } = parseArgs({
  options: { records: { type: 'string', default: '1000000' }, keys: { type: 'string', default: '100000' } },
});
const RECORDS = Number(values.records);
const KEYS = Number(values.keys);
const PARTITIONS = 8;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const PIPELINE = countPipelineSource();

/** The input of every run: the bench engine's generator, uniform keys, 1 ms of event time per record. */
const INPUT: GeneratedInputSpec = {
  kind: 'generated',
  records: RECORDS,
  keys: KEYS,
  distribution: 'uniform',
  zipfExponent: 1,
  value: { n: '{{index}}' },
  eventsPerSecond: 1_000,
  disorderMs: 0,
  startTimestamp: 1_700_000_000_000,
  seed: 7,
};

/** Writes the job's config and pipeline; `weir bench` produces the input for its own runs. */
async function setup(dir: string): Promise<string> {
  const configPath = join(dir, 'weir.yaml');
  await writeFile(join(dir, 'pipeline.mjs'), PIPELINE);
  await writeFile(
    configPath,
    [
      'appId: bench',
      'log: { backend: local, path: ./log }',
      'state: { dir: ./state }',
      'input: { topics: [events] }',
      'output: { topics: [counts] }',
      'pipeline: ./pipeline.mjs',
      `partitions: ${PARTITIONS}`,
    ].join('\n'),
  );
  // The same records for the hand-written loop, in its own log.
  const backend = await LocalLogBackend.open(join(dir, 'log'));
  await backend.createTopic('events', PARTITIONS);
  const producer = await backend.producer();
  for await (const batch of (await openBenchInput(INPUT)).batches('events', 10_000)) await producer.append(batch);
  await producer.close();
  await backend.close();
  return configPath;
}

/** The same work in one thread, written by hand with the same libraries. */
async function handWrittenLoop(dir: string): Promise<{ seconds: number; recordsPerSecond: number }> {
  const backend = await LocalLogBackend.open(join(dir, 'log'));
  await backend.createTopic('hand-changelog', PARTITIONS, { compact: true });
  await backend.createTopic('hand-counts', PARTITIONS);
  const reader = await backend.reader();
  const producer = await backend.producer();
  const db = new ClassicLevel<Uint8Array, Uint8Array>(join(dir, 'hand-state'), { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  const started = performance.now();
  let processed = 0;
  for (let p = 0; p < PARTITIONS; p++) {
    const { high } = await backend.watermarks({ topic: 'events', partition: p });
    for (let next = 0; next < high; ) {
      const records: LogRecord[] = await reader.read({ topic: 'events', partition: p }, next, 5000);
      if (records.length === 0) break;
      next = records[records.length - 1]!.offset + 1;
      const stateKeys = new Map<string, Uint8Array>();
      for (const r of records) {
        const k = decoder.decode(r.key!) + '|"count"';
        if (!stateKeys.has(k)) stateKeys.set(k, encoder.encode(k));
      }
      const keys = [...stateKeys.keys()];
      const stored = await db.getMany(keys.map((k) => stateKeys.get(k)!));
      const counts = new Map<string, number>();
      keys.forEach((k, i) => counts.set(k, stored[i] === undefined ? 0 : (JSON.parse(decoder.decode(stored[i])) as number)));
      const outputs: AppendRecord[] = [];
      for (const r of records) {
        JSON.parse(decoder.decode(r.value!));
        const k = decoder.decode(r.key!) + '|"count"';
        const c = counts.get(k)! + 1;
        counts.set(k, c);
        outputs.push({ topic: 'hand-counts', key: r.key, value: encoder.encode(JSON.stringify(c)), timestamp: r.timestamp });
      }
      const headers = [
        { key: '__column_family__', value: encoder.encode('default') },
        { key: '__processed_tp_offsets__', value: encoder.encode(JSON.stringify({ events: next - 1 })) },
      ];
      const changelog: AppendRecord[] = [];
      const batch = db.batch();
      for (const [k, c] of counts) {
        const value = encoder.encode(JSON.stringify(c));
        batch.put(stateKeys.get(k)!, value);
        changelog.push({ topic: 'hand-changelog', partition: p, key: stateKeys.get(k)!, value, headers, timestamp: Date.now() });
      }
      await producer.append([...changelog, ...outputs]);
      await batch.write();
      processed += records.length;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  await db.close();
  await producer.close();
  await reader.close();
  await backend.close();
  return { seconds, recordsPerSecond: processed / seconds };
}

/** Raw classic-level batch write of `count` changelog-sized records, 20 k per batch. */
async function rawBatchWrite(dir: string, count: number): Promise<number> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(join(dir, 'raw-write'), { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  const started = performance.now();
  for (let i = 0; i < count; i += 20_000) {
    const batch = db.batch();
    for (let j = i; j < Math.min(count, i + 20_000); j++) {
      batch.put(encoder.encode(`"user-${j % KEYS}"|"count"`), encoder.encode(String(j)));
    }
    await batch.write();
  }
  const seconds = (performance.now() - started) / 1000;
  await db.close();
  return count / seconds;
}

const dir = await mkdtemp(join(tmpdir(), 'weir-bench-count-'));
try {
  const configPath = await setup(dir);
  const hand = await handWrittenLoop(dir);
  const report = await runBench({ configPath, workers: [1, 2], input: INPUT });
  const runs: Record<string, unknown> = {};
  for (const run of report.runs) {
    runs[`workers${run.workers}`] = {
      records: run.records,
      seconds: run.seconds,
      recordsPerSecond: run.recordsPerSecond,
      vsHandWritten: run.recordsPerSecond / hand.recordsPerSecond,
      coordinatorCpuSeconds: run.cpu.coordinatorSeconds,
      workerCpuSeconds: run.cpu.workers.map((w) => w.seconds),
      peakRssBytes: run.peakRssBytes,
    };
  }
  // Recovery of the 2-worker run: replay time from the first changelog read to the last applied chunk.
  const rebuilt = report.runs.find((run) => run.workers === 2)?.recovery;
  const recovery = rebuilt === undefined ? undefined : { records: rebuilt.records, seconds: rebuilt.seconds, recordsPerSecond: rebuilt.recordsPerSecond };
  const raw = await rawBatchWrite(dir, recovery?.records ?? RECORDS);
  process.stdout.write(
    JSON.stringify(
      {
        bench: 'count-job',
        records: RECORDS,
        keys: KEYS,
        partitions: PARTITIONS,
        handWritten: hand,
        weir: runs,
        recovery: { ...recovery, rawClassicLevelBatchWritePerSecond: raw, vsRaw: (recovery?.recordsPerSecond ?? 0) / raw },
        targets: { workers2VsHandWritten: 1.3, workers1VsHandWritten: 0.8, recoveryVsRaw: 0.5 },
        weirBench: report,
      },
      null,
      2,
    ) + '\n',
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
