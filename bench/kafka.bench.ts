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
import type { KafkaConsumer, Message } from '@confluentinc/kafka-javascript';
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

/** Records/s of the bare callback-API loop, from the first record to the last. */
async function bareRate(group: string): Promise<number> {
  const consumer: KafkaConsumer = new Kafka.KafkaConsumer({
    'bootstrap.servers': cluster.bootstrapServers,
    'group.id': group,
    'enable.auto.commit': false,
    'auto.offset.reset': 'earliest',
    'partition.assignment.strategy': 'range',
  });
  await new Promise<void>((resolve, reject) => consumer.connect({}, (error) => (error ? reject(error) : resolve())));
  (consumer as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(v: boolean): void }).setDefaultIsTimeoutOnlyForFirstMessage(true);
  consumer.setDefaultConsumeTimeout(100);
  consumer.subscribe([topic]);
  let read = 0;
  let first = 0;
  let checksum = 0;
  while (read < RECORDS) {
    const messages = await new Promise<Message[]>((resolve, reject) =>
      consumer.consume(BATCH, (error, batch) => (error ? reject(error) : resolve(batch))),
    );
    if (messages.length > 0 && first === 0) first = performance.now();
    for (const message of messages) checksum += message.value?.length ?? 0;
    read += messages.length;
  }
  const seconds = (performance.now() - first) / 1000;
  (consumer as EventEmitter).removeAllListeners();
  await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  if (checksum !== RECORDS * VALUE_BYTES) throw new Error('bare loop read wrong data');
  return RECORDS / seconds;
}

/** Records/s through the backend's GroupConsumer.poll. */
async function backendRate(group: string): Promise<number> {
  const consumer = await log.consumer(group);
  await consumer.subscribe([topic], { onAssign: async () => {}, onRevoke: async () => {} });
  let read = 0;
  let first = 0;
  let checksum = 0;
  while (read < RECORDS) {
    const records = await consumer.poll(BATCH, 100);
    if (records.length > 0 && first === 0) first = performance.now();
    for (const record of records) checksum += record.value?.length ?? 0;
    read += records.length;
  }
  const seconds = (performance.now() - first) / 1000;
  await consumer.close();
  if (checksum !== RECORDS * VALUE_BYTES) throw new Error('backend read wrong data');
  return RECORDS / seconds;
}

const bare: number[] = [];
const backend: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  bare.push(await bareRate(`bench-bare-${round}`));
  backend.push(await backendRate(`bench-backend-${round}`));
}
await log.close();
await cluster.stop();

const best = (rates: number[]) => Math.max(...rates);
console.log(
  JSON.stringify(
    {
      benchmark: 'kafka consume rate: backend GroupConsumer.poll vs bare consume(n) loop (mock cluster)',
      records: RECORDS,
      valueBytes: VALUE_BYTES,
      partitions: PARTITIONS,
      batch: BATCH,
      produceRecordsPerSecond: Math.round(RECORDS / produceSeconds),
      bareRecordsPerSecond: bare.map(Math.round),
      backendRecordsPerSecond: backend.map(Math.round),
      ratioOfBest: Number((best(backend) / best(bare)).toFixed(3)),
      target: 0.8,
    },
    null,
    2,
  ),
);
