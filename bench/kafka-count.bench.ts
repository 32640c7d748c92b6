/**
 * The count job on librdkafka's in-process mock cluster: weir under at-least-once and
 * under exactly-once, and a hand-written loop on the bare @confluentinc/kafka-javascript
 * client, same input, same run, the order rotating every round so machine noise hits
 * all alike. Targets: exactly-once costs ≤ 10 % (docs/semantics.md §8.3); weir at-least-once in steady
 * state ≥ 0.5× the bare loop (issue 10).
 *
 *   node dist/bench/kafka-count.bench.js [--rounds 3] [--records 100000] [--keys 10000]
 *       [--partitions 8] [--workers 2] [--guarantees at-least-once,exactly-once] [--no-loop]
 *   issue 10's setting: --records 200000 --partitions 4 --keys 10000
 *   (the older positional form `kafka-count.bench.js [records] [rounds]` still works)
 *
 * Each weir run is a fresh app id (fresh consumer group, state and changelog topics) on
 * one in-process `App`. Two rates per run: over the whole run (weir's summary, which
 * includes joining the group, several seconds on the mock) and in steady state (from the
 * first record the job's consumer returns to the end of the run). The bare loop: a
 * `KafkaConsumer` with `consume(1000)` batches, counts in a Map, one `produce` per record
 * (idempotent producer, linger 5 ms, like weir's), and every 30 s (weir's default commit
 * interval under at-least-once) and at the end it waits for all delivery reports and commits the consumed
 * offsets (at-least-once). Every round is shown; medians are real medians; the
 * exactly-once cost is 1 − median(exactly-once) / median(at-least-once), and per round.
 * On the mock, exactly-once runs the real transactional call sequence, but the mock
 * ignores offsets sent in a transaction (a librdkafka mock limitation). Prints one JSON document.
 */
import type { EventEmitter } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Kafka from '@confluentinc/kafka-javascript';
import type { KafkaConsumer, LibrdKafkaError, Message, Producer } from '@confluentinc/kafka-javascript';
import { CONFIG_DEFAULTS, loadConfig } from '../config/index.js';
import { KafkaLogBackend } from '../shared/log/kafka/kafka-log-backend.js';
import type { GroupConsumer, LogBackend } from '../shared/log/log-backend.js';
import { App } from '../runtime/app.js';
import { startMockCluster } from '../test/kafka/mock-cluster.js';
import { childEnv, loadAverage, median, positiveInteger, round, tempDir } from './bench-support.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string' },
    records: { type: 'string' },
    keys: { type: 'string', default: '10000' },
    partitions: { type: 'string', default: '8' },
    workers: { type: 'string', default: '2' },
    guarantees: { type: 'string', default: 'at-least-once,exactly-once' },
    'no-loop': { type: 'boolean', default: false },
  },
});
const RECORDS = positiveInteger('records', values.records ?? positionals[0] ?? '100000');
const ROUNDS = positiveInteger('rounds', values.rounds ?? positionals[1] ?? '3');
const KEYS = positiveInteger('keys', values.keys);
const PARTITIONS = positiveInteger('partitions', values.partitions);
const WORKERS = positiveInteger('workers', values.workers);
const CLIENT = { 'session.timeout.ms': 6000, 'heartbeat.interval.ms': 500 };
/** The loop commits as often as weir does by default under at-least-once. */
const LOOP_COMMIT_INTERVAL_MS = CONFIG_DEFAULTS.commitInterval * 1000;
const GUARANTEES = values.guarantees.split(',').map((g) => g.trim());
for (const g of GUARANTEES) if (g !== 'at-least-once' && g !== 'exactly-once') throw new Error(`--guarantees: at-least-once and/or exactly-once, got ${g}`);
const encoder = new TextEncoder();

type Guarantee = 'at-least-once' | 'exactly-once';

interface RunRate {
  readonly recordsPerSecond: number;
  readonly steadyRecordsPerSecond: number;
  readonly seconds: number;
  /** From the start of the run to the first record returned (joining the group). */
  readonly secondsToFirstRecord: number;
  readonly loadAverageAtStart: number[];
}

const loadAverageAtStart = loadAverage();
const cluster = await startMockCluster();
const dir = await tempDir('weir-bench-kafka-count-');
const input = `events-${process.pid}`;
const output = `counts-${process.pid}`;
cluster.createTopic(input, PARTITIONS);
cluster.createTopic(output, PARTITIONS);
await writeFile(
  join(dir.path, 'pipeline.mjs'),
  `export default {
  stores: { counts: { preload: ['count'] } },
  process(record, context) {
    const state = context.state('counts');
    const count = state.get('count', 0) + 1;
    state.set('count', count);
    context.emit('${output}', { key: record.key, value: count });
  },
};`,
);

const seeding = await KafkaLogBackend.open({ brokers: cluster.bootstrapServers, clientProperties: CLIENT });
const seedProducer = await seeding.producer();
for (let i = 0; i < RECORDS; i += 10_000) {
  await seedProducer.append(
    Array.from({ length: Math.min(10_000, RECORDS - i) }, (_, j) => ({
      topic: input,
      key: encoder.encode(JSON.stringify(`user-${(i + j) % KEYS}`)),
      value: encoder.encode(JSON.stringify({ n: i + j })),
    })),
  );
}
await seedProducer.close();
await seeding.close();

/** The backend, with its group consumers noting when they first return a record. */
function observedBackend(backend: LogBackend, firstRecord: { at: number }): LogBackend {
  const note = <T extends unknown[]>(result: T): T => {
    if (firstRecord.at === 0 && result.length > 0) firstRecord.at = performance.now();
    return result;
  };
  const wrapConsumer = (consumer: GroupConsumer): GroupConsumer =>
    new Proxy(consumer, {
      get(target, property) {
        const value = Reflect.get(target, property, target) as unknown;
        if (typeof value !== 'function') return value;
        if (property === 'poll' || property === 'pollBatches') {
          return async (...args: unknown[]) => note(await (value as (...a: unknown[]) => Promise<unknown[]>).apply(target, args));
        }
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });
  return new Proxy(backend, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== 'function') return value;
      if (property === 'consumer') return async (group: string) => wrapConsumer(await target.consumer(group));
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

async function runWeir(guarantee: Guarantee, roundNo: number): Promise<RunRate> {
  const load = loadAverage();
  const appId = `bench-${guarantee}-${roundNo}-${process.pid}`;
  cluster.createTopic(`changelog__${appId}--${input}--counts`, PARTITIONS);
  const configPath = join(dir.path, `${appId}.yaml`);
  await writeFile(
    configPath,
    [
      `appId: ${appId}`,
      `log: { backend: kafka, brokers: "${cluster.bootstrapServers}", clientProperties: ${JSON.stringify(CLIENT)} }`,
      `state: { dir: ./state-${appId} }`,
      `input: { topics: [${input}] }`,
      `output: { topics: [${output}] }`,
      'pipeline: ./pipeline.mjs',
      `processingGuarantee: ${guarantee}`,
      `workers: ${WORKERS}`,
    ].join('\n'),
  );
  const config = await loadConfig(configPath, childEnv());
  const backend = await KafkaLogBackend.open({ brokers: cluster.bootstrapServers, clientProperties: CLIENT });
  const firstRecord = { at: 0 };
  try {
    const started = performance.now();
    const app = await App.create(config, observedBackend(backend, firstRecord));
    const summary = await app.run({ untilIdle: true, log: () => undefined });
    const ended = performance.now();
    if (summary.records !== RECORDS) throw new Error(`${guarantee}: the job processed ${summary.records} records, expected ${RECORDS}`);
    return {
      recordsPerSecond: Math.round(summary.recordsPerSecond),
      steadyRecordsPerSecond: Math.round(RECORDS / ((ended - firstRecord.at) / 1000)),
      seconds: round(summary.seconds, 2),
      secondsToFirstRecord: round((firstRecord.at - started) / 1000, 2),
      loadAverageAtStart: load,
    };
  } finally {
    await backend.close();
  }
}

function callback<T>(call: (cb: (error: LibrdKafkaError | null | undefined, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => call((error, value) => (error ? reject(error) : resolve(value))));
}

/** The hand-written count loop on the bare client (at-least-once). */
async function runBareLoop(roundNo: number): Promise<RunRate> {
  const load = loadAverage();
  const started = performance.now();
  const consumer: KafkaConsumer = new Kafka.KafkaConsumer({
    ...CLIENT,
    'bootstrap.servers': cluster.bootstrapServers,
    'group.id': `bare-loop-${roundNo}-${process.pid}`,
    'enable.auto.commit': false,
    'auto.offset.reset': 'earliest',
    'partition.assignment.strategy': 'range',
  });
  const producer: Producer = new Kafka.Producer({
    'bootstrap.servers': cluster.bootstrapServers,
    'linger.ms': 5,
    'enable.idempotence': true,
    partitioner: 'murmur2_random',
    dr_cb: true,
  });
  let pending = 0;
  let deliveryError: LibrdKafkaError | undefined;
  let drained: (() => void) | undefined;
  (producer as unknown as EventEmitter).on('delivery-report', (error: LibrdKafkaError | undefined) => {
    if (error) deliveryError ??= error;
    if (--pending === 0) drained?.();
  });
  await callback((cb) => consumer.connect({}, cb));
  await callback((cb) => producer.connect({}, cb));
  producer.setPollInBackground(true);
  (consumer as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(v: boolean): void }).setDefaultIsTimeoutOnlyForFirstMessage(true);
  consumer.setDefaultConsumeTimeout(100);
  consumer.subscribe([input]);

  const counts = new Map<string, number>();
  const next = new Map<number, number>();
  let read = 0;
  let first = 0;
  let lastCommit = performance.now();
  const commit = async (): Promise<void> => {
    if (pending > 0) await new Promise<void>((resolve) => (drained = resolve));
    drained = undefined;
    if (deliveryError) throw deliveryError;
    const offsets = [...next].map(([partition, offset]) => ({ topic: input, partition, offset }));
    if (offsets.length > 0) {
      await callback<void>((cb) =>
        (consumer as unknown as { commitCb(o: unknown, cb: (e: LibrdKafkaError | null) => void): void }).commitCb(offsets, (e) => cb(e, undefined)),
      );
    }
    lastCommit = performance.now();
  };
  while (read < RECORDS) {
    const messages = await callback<Message[]>((cb) => consumer.consume(1000, cb));
    if (messages.length > 0 && first === 0) first = performance.now();
    for (const message of messages) {
      const key = message.key === undefined || message.key === null ? '' : message.key.toString();
      const count = (counts.get(key) ?? 0) + 1;
      counts.set(key, count);
      for (;;) {
        try {
          producer.produce(output, -1, Buffer.from(JSON.stringify(count)), message.key ?? null, message.timestamp ?? null);
          pending++;
          break;
        } catch (error) {
          if ((error as LibrdKafkaError).code !== -184) throw error; // QUEUE_FULL: let deliveries drain
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
      next.set(message.partition, message.offset + 1);
    }
    read += messages.length;
    if (performance.now() - lastCommit >= LOOP_COMMIT_INTERVAL_MS) await commit();
  }
  await commit();
  const ended = performance.now();
  (consumer as unknown as EventEmitter).removeAllListeners();
  await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
  return {
    recordsPerSecond: Math.round(RECORDS / ((ended - started) / 1000)),
    steadyRecordsPerSecond: Math.round(RECORDS / ((ended - first) / 1000)),
    seconds: round((ended - started) / 1000, 2),
    secondsToFirstRecord: round((first - started) / 1000, 2),
    loadAverageAtStart: load,
  };
}

type RunName = Guarantee | 'bare-loop';
const names: RunName[] = [...(GUARANTEES as Guarantee[]), ...(values['no-loop'] ? [] : (['bare-loop'] as const))];
const rates: Record<RunName, RunRate[]> = { 'at-least-once': [], 'exactly-once': [], 'bare-loop': [] };
try {
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length]!;
      const rate = name === 'bare-loop' ? await runBareLoop(r) : await runWeir(name, r);
      rates[name].push(rate);
      process.stderr.write(`round ${r + 1} ${name}: ${rate.recordsPerSecond} records/s, steady ${rate.steadyRecordsPerSecond}\n`);
    }
  }
} finally {
  await cluster.stop();
  await dir.cleanup();
}

const medianOf = (name: RunName, field: 'recordsPerSecond' | 'steadyRecordsPerSecond'): number =>
  Math.round(median(rates[name].map((x) => x[field])));
const both = rates['at-least-once'].length > 0 && rates['exactly-once'].length > 0;
const hasLoop = rates['bare-loop'].length > 0 && rates['at-least-once'].length > 0;
const report: Record<string, unknown> = {};
for (const name of names) {
  report[name] = {
    rounds: rates[name].map((x, i) => ({ round: i + 1, ...x })),
    median: { recordsPerSecond: medianOf(name, 'recordsPerSecond'), steadyRecordsPerSecond: medianOf(name, 'steadyRecordsPerSecond') },
  };
}
const loopSteady = hasLoop ? medianOf('bare-loop', 'steadyRecordsPerSecond') : null;
process.stdout.write(
  JSON.stringify(
    {
      bench: 'kafka-count',
      records: RECORDS,
      keys: KEYS,
      partitions: PARTITIONS,
      workers: WORKERS,
      rounds: ROUNDS,
      runs: report,
      exactlyOnceCost: both ? round(1 - medianOf('exactly-once', 'recordsPerSecond') / medianOf('at-least-once', 'recordsPerSecond'), 4) : null,
      exactlyOnceCostPerRound: both
        ? rates['exactly-once'].map((x, i) => round(1 - x.recordsPerSecond / rates['at-least-once'][i]!.recordsPerSecond, 4))
        : null,
      exactlyOnceCostSteadyState: both
        ? round(1 - medianOf('exactly-once', 'steadyRecordsPerSecond') / medianOf('at-least-once', 'steadyRecordsPerSecond'), 4)
        : null,
      atLeastOnceSteadyVsBareLoop: loopSteady === null ? null : round(medianOf('at-least-once', 'steadyRecordsPerSecond') / loopSteady, 3),
      atLeastOnceSteadyVsBareLoopPerRound:
        loopSteady === null
          ? null
          : rates['at-least-once'].map((x, i) => round(x.steadyRecordsPerSecond / rates['bare-loop'][i]!.steadyRecordsPerSecond, 3)),
      target: { exactlyOnceCostAtMost: 0.1, atLeastOnceSteadyVsBareLoopAtLeast: 0.5 },
      loadAverage: { start: loadAverageAtStart, end: loadAverage() },
    },
    null,
    2,
  ) + '\n',
);
