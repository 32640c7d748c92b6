/**
 * The count job with Avro values vs JSON values, in the same run (issue 13's target:
 * Avro costs ≤ 20 %), on the local log.
 *
 * - Input: the count job's events (examples/count/count-events.ts: `{n, amount}` values, JSON
 *   string keys), seeded twice, not timed: once as JSON, once as Avro in the schema
 *   registry wire format (a test registry served over HTTP in this process).
 * - Pipelines: the count example (never reads the value: JSON values are never parsed,
 *   Avro values are decoded before the pipeline runs, as every strict format is), and a
 *   variant that reads `record.value.amount` (both formats parse every value).
 * - Each run: `weir run -c weir.yaml --until-idle --workers 1 --json` in a child process;
 *   rounds interleave the variants in a rotated order.
 *
 * - Start-up: the same job over an empty topic per format (`json-empty`, `avro-empty`):
 *   loading avsc and the registry client and registering the schema cost once per worker,
 *   so they are reported apart from the cost per record.
 *
 * Reported per variant: records/s, worker CPU µs per record (start-up included; for the
 * empty runs, their CPU spread over the same record count), medians over the rounds, and
 * Avro vs JSON ratios per pipeline, with and without the start-up. Prints one JSON document.
 *
 *   node dist/bench/formats.bench.js [--rounds 3] [--records 200000] [--keys 10000]
 */
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { countPipelineSource } from '../examples/count/count-pipeline-source.js';
import { TopicFormats } from '../shared/serialization/topic-formats.js';
import { startSchemaRegistry } from '../test/serialization/fixtures/schema-registry-server.js';
import { localJobYaml, loadAverage, median, positiveInteger, round, runWeirUntilIdle, seedLocalLog, tempDir } from './bench-support.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    records: { type: 'string', default: '200000' },
    keys: { type: 'string', default: '10000' },
  },
});
const ROUNDS = positiveInteger('rounds', values.rounds);
const RECORDS = positiveInteger('records', values.records);
const KEYS = positiveInteger('keys', values.keys);
const PARTITIONS = 8;

const EVENT_SCHEMA = {
  type: 'record',
  name: 'Event',
  namespace: 'weir.bench',
  fields: [
    { name: 'n', type: 'long' },
    { name: 'amount', type: 'double' },
  ],
};

const READING_PIPELINE = `
export default {
  stores: { counts: { preload: ['count', 'total'] } },
  process(record, context) {
    const state = context.state('counts');
    state.set('count', state.get('count', 0) + 1);
    state.set('total', state.get('total', 0) + record.value.amount);
    context.emit('counts', { key: record.key ?? null, value: state.get('count') });
  },
};
`;

async function seed(logPath: string, encodeValue: (value: unknown) => Uint8Array, records = RECORDS): Promise<void> {
  await seedLocalLog(logPath, 'events', PARTITIONS, records, KEYS, encodeValue);
}

interface Round {
  readonly recordsPerSecond: number;
  readonly workerCpuMicrosPerRecord: number;
}

const registry = await startSchemaRegistry();
const dir = await tempDir('weir-formats-bench-');
try {
  const schemaPath = join(dir.path, 'event.avsc');
  await writeFile(schemaPath, JSON.stringify(EVENT_SCHEMA));
  const registryConfig = { url: registry.url, maxRetries: 3, retryBackoffMs: 100, retryMaxBackoffMs: 1000, requestTimeoutMs: 5000 };
  const formats = await TopicFormats.create({ read: {}, write: { events: { key: { type: 'json' }, value: { type: 'avro', schema: schemaPath } } }, schemaRegistry: registryConfig });
  const avro = formats.format('events', 'value');
  const seedStarted = performance.now();
  await seed(join(dir.path, 'seed-json'), (value) => new TextEncoder().encode(JSON.stringify(value)));
  await seed(join(dir.path, 'seed-avro'), (value) => avro.serialize(value));
  await seed(join(dir.path, 'seed-empty'), (value) => avro.serialize(value), 0);
  formats.close();
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  await writeFile(join(dir.path, 'count.mjs'), countPipelineSource());
  await writeFile(join(dir.path, 'reading.mjs'), READING_PIPELINE);

  // `-empty`: the same job over an empty topic, to tell the format's start-up cost (loading
  // avsc and the registry client, registering the schema) from its cost per record.
  const variants = ['json-count', 'avro-count', 'json-reading', 'avro-reading', 'json-empty', 'avro-empty'] as const;
  const rounds: Record<string, Round[]> = {};
  const loadAverageAtStart = loadAverage();
  for (let r = 0; r < ROUNDS; r++) {
    const order = variants.map((_, i) => variants[(i + r) % variants.length]!);
    for (const variant of order) {
      const [format, kind] = variant.split('-') as ['json' | 'avro', 'count' | 'reading' | 'empty'];
      const pipeline = kind === 'empty' ? 'reading' : kind;
      const records = kind === 'empty' ? 0 : RECORDS;
      const runDir = join(dir.path, `run-${r}-${variant}`);
      await mkdir(runDir);
      await cp(join(dir.path, kind === 'empty' ? 'seed-empty' : `seed-${format}`), join(runDir, 'log'), { recursive: true });
      const config = join(runDir, 'weir.yaml');
      await writeFile(
        config,
        localJobYaml({
          appId: 'count',
          input: format === 'avro' ? `{ topics: [events], valueFormat: { type: avro, schema: ${JSON.stringify(schemaPath)} } }` : undefined,
          output: '{ topics: [counts] }',
          pipeline: join(dir.path, `${pipeline}.mjs`),
          partitions: PARTITIONS,
          extra: format === 'avro' ? [`schemaRegistry: { url: "${registry.url}" }`] : [],
        }),
      );
      const { summary } = await runWeirUntilIdle(config, 1, records, `weir run (${variant})`);
      const workerCpu = summary.workers.reduce((s, w) => s + w.cpuSeconds, 0);
      // Empty runs: the worker's start-up CPU, in µs per record of the other runs.
      const result = {
        recordsPerSecond: Math.round(summary.recordsPerSecond),
        workerCpuMicrosPerRecord: round((workerCpu * 1e6) / RECORDS, 2),
      };
      (rounds[variant] ??= []).push(result);
      process.stderr.write(`round ${r + 1} ${variant}: ${result.recordsPerSecond} records/s, worker ${result.workerCpuMicrosPerRecord} µs/record\n`);
      await rm(runDir, { recursive: true, force: true });
    }
  }
  const medians: Record<string, Round> = {};
  for (const [variant, list] of Object.entries(rounds)) {
    medians[variant] = {
      recordsPerSecond: Math.round(median(list.map((x) => x.recordsPerSecond))),
      workerCpuMicrosPerRecord: round(median(list.map((x) => x.workerCpuMicrosPerRecord)), 2),
    };
  }
  const ratio = (pipeline: string) => {
    const json = rounds[`json-${pipeline}`]!;
    const avro = rounds[`avro-${pipeline}`]!;
    const jsonStart = rounds['json-empty']!;
    const avroStart = rounds['avro-empty']!;
    // Per record once the worker runs: each run's worker CPU minus the same round's empty run.
    const marginal = (list: Round[], start: Round[]) => list.map((x, i) => x.workerCpuMicrosPerRecord - start[i]!.workerCpuMicrosPerRecord);
    const jsonMarginal = marginal(json, jsonStart);
    const avroMarginal = marginal(avro, avroStart);
    return {
      workerCpuPerRecordAvroVsJson: round(median(avro.map((a, i) => a.workerCpuMicrosPerRecord / json[i]!.workerCpuMicrosPerRecord)), 3),
      recordsPerSecondAvroVsJson: round(median(avro.map((a, i) => a.recordsPerSecond / json[i]!.recordsPerSecond)), 3),
      workerCpuMicrosPerRecordAfterStartUp: { json: round(median(jsonMarginal), 2), avro: round(median(avroMarginal), 2) },
      afterStartUpAvroVsJson: round(median(avroMarginal.map((a, i) => a / jsonMarginal[i]!)), 3),
    };
  };
  process.stdout.write(
    JSON.stringify(
      {
        bench: 'formats',
        records: RECORDS,
        keys: KEYS,
        partitions: PARTITIONS,
        rounds: ROUNDS,
        config: 'defaults (at-least-once, commitInterval 30, local log); weir run --until-idle --workers 1 in a child process',
        seedSeconds: round(seedSeconds, 1),
        perRound: rounds,
        median: medians,
        countJob: ratio('count'),
        readingJob: ratio('reading'),
        target: { avroCostAtMost: 1.2 },
        loadAverage: { start: loadAverageAtStart, end: loadAverage() },
      },
      null,
      2,
    ) + '\n',
  );
} finally {
  await dir.cleanup();
  await registry.close();
}
