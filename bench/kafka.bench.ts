/**
 * Consume rate of the Kafka backend (`GroupConsumer.poll`) next to a bare
 * @confluentinc/kafka-javascript consumer loop (`consume(n)`), same topic, same run, on
 * librdkafka's in-process mock cluster. Each side reads the whole topic with its own
 * consumer group; the rounds alternate so machine noise hits both alike.
 *
 *   node dist/bench/kafka.bench.js [records=200000] [rounds=2]
 *
 * Prints one JSON object. Target: backend ≥ 0.8 × bare.
 */
import type { EventEmitter } from 'node:events';
import Kafka from '@confluentinc/kafka-javascript';
import type { KafkaConsumer, LibrdKafkaError, Message } from '@confluentinc/kafka-javascript';
import { KafkaLogBackend } from '../shared/log/kafka/kafka-log-backend.js';
import { startMockCluster } from '../test/kafka/mock-cluster.js';

const RECORDS = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.argv[3] ?? 2);
/** 8 partitions keep each under the mock's ~5 MiB per partition. */
const PARTITIONS = 8;
const BATCH = 1_000;
const VALUE_BYTES = 100;

const cluster = await startMockCluster();
const log = await KafkaLogBackend.open({ brokers: cluster.bootstrapServers, topicProvisioner: (name, n) => cluster.createTopic(name, n) });
const topic = `bench-${process.pid}`;
await log.createTopic(topic, PARTITIONS);

const producer = await log.producer();
const value = new Uint8Array(VALUE_BYTES).fill(120);
const produceStart = performance.now();
for (let start = 0; start < RECORDS; start += 10_000) {
  const count = Math.min(10_000, RECORDS - start);
  await producer.append(
    Array.from({ length: count }, (_, i) => ({ topic, key: Buffer.from(`key-${(start + i) % 10_000}`), value })),
  );
}
const produceSeconds = (performance.now() - produceStart) / 1000;
await producer.close();

interface Rate {
  /** Records per wall-clock second, first record to last. */
  readonly perSecond: number;
  /** Process CPU (all threads, librdkafka's included) per record, microseconds. */
  readonly cpuMicrosPerRecord: number;
}

function rateSince(first: number, cpuAtFirst: NodeJS.CpuUsage): Rate {
  const seconds = (performance.now() - first) / 1000;
  const cpu = process.cpuUsage(cpuAtFirst);
  return { perSecond: RECORDS / seconds, cpuMicrosPerRecord: (cpu.user + cpu.system) / RECORDS };
}

/** The bare callback-API loop. */
async function bareRate(group: string): Promise<Rate> {
  const consumer: KafkaConsumer = new Kafka.KafkaConsumer({
    'bootstrap.servers': cluster.bootstrapServers,
    'group.id': group,
    'enable.auto.commit': false,
    'auto.offset.reset': 'earliest',
    'partition.assignment.strategy': 'range',
  });
  await new Promise<void>((resolve, reject) => consumer.connect({}, (error: LibrdKafkaError | null | undefined) => (error ? reject(error) : resolve())));
  (consumer as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(v: boolean): void }).setDefaultIsTimeoutOnlyForFirstMessage(true);
  consumer.setDefaultConsumeTimeout(100);
  consumer.subscribe([topic]);
  let read = 0;
  let first = 0;
  let cpuAtFirst = process.cpuUsage();
  let checksum = 0;
  while (read < RECORDS) {
    const messages = await new Promise<Message[]>((resolve, reject) =>
      consumer.consume(BATCH, (error: LibrdKafkaError | null | undefined, batch: Message[]) => (error ? reject(error) : resolve(batch))),
    );
    if (messages.length > 0 && first === 0) {
      first = performance.now();
      cpuAtFirst = process.cpuUsage();
    }
    for (const message of messages) checksum += message.value?.length ?? 0;
    read += messages.length;
  }
  const rate = rateSince(first, cpuAtFirst);
  (consumer as EventEmitter).removeAllListeners();
  await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  if (checksum !== RECORDS * VALUE_BYTES) throw new Error('bare loop read wrong data');
  return rate;
}

/** The backend's GroupConsumer.poll. */
async function backendRate(group: string): Promise<Rate> {
  const consumer = await log.consumer(group);
  await consumer.subscribe([topic], { onAssign: async () => {}, onRevoke: async () => {} });
  let read = 0;
  let first = 0;
  let cpuAtFirst = process.cpuUsage();
  let checksum = 0;
  while (read < RECORDS) {
    const records = await consumer.poll(BATCH, 100);
    if (records.length > 0 && first === 0) {
      first = performance.now();
      cpuAtFirst = process.cpuUsage();
    }
    for (const record of records) checksum += record.value?.length ?? 0;
    read += records.length;
  }
  const rate = rateSince(first, cpuAtFirst);
  await consumer.close();
  if (checksum !== RECORDS * VALUE_BYTES) throw new Error('backend read wrong data');
  return rate;
}

const bare: Rate[] = [];
const backend: Rate[] = [];
for (let round = 0; round < ROUNDS; round++) {
  bare.push(await bareRate(`bench-bare-${round}`));
  backend.push(await backendRate(`bench-backend-${round}`));
}
await log.close();
await cluster.stop();

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const round1 = (n: number) => Math.round(n * 10) / 10;
const bareRates = bare.map((r) => r.perSecond);
const backendRates = backend.map((r) => r.perSecond);
const bareCpu = median(bare.map((r) => r.cpuMicrosPerRecord));
const backendCpu = median(backend.map((r) => r.cpuMicrosPerRecord));
console.log(
  JSON.stringify(
    {
      benchmark: 'kafka consume rate: backend GroupConsumer.poll vs bare consume(n) loop (mock cluster)',
      records: RECORDS,
      valueBytes: VALUE_BYTES,
      partitions: PARTITIONS,
      batch: BATCH,
      rounds: ROUNDS,
      produceRecordsPerSecond: Math.round(RECORDS / produceSeconds),
      bareRecordsPerSecond: bareRates.map(Math.round),
      backendRecordsPerSecond: backendRates.map(Math.round),
      bareCpuMicrosPerRecord: bare.map((r) => round1(r.cpuMicrosPerRecord)),
      backendCpuMicrosPerRecord: backend.map((r) => round1(r.cpuMicrosPerRecord)),
      /** Backend rate / bare rate, medians over the rounds. */
      rateRatio: Number((median(backendRates) / median(bareRates)).toFixed(3)),
      /** Bare CPU per record / backend CPU per record (1 = same cost); steadier than wall time on a busy machine. */
      cpuEfficiencyRatio: Number((bareCpu / backendCpu).toFixed(3)),
      target: 0.8,
    },
    null,
    2,
  ),
);
