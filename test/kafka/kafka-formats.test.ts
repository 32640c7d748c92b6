/**
 * Formats on the Kafka backend (librdkafka's mock cluster in this process): the
 * string-key/double-value count job and a record that does not deserialize, as on the
 * local log; the Avro-in/Protobuf-out job with the schema registry is in
 * kafka-registry.test.ts.
 */
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../config/index.js';
import { runJob } from '../../runtime/job-runner.js';
import { KafkaLogBackend } from '../../shared/log/kafka/kafka-log-backend.js';
import type { AppendRecord, LogRecord } from '../../shared/log/log-backend.js';
import { startMockCluster, type MockCluster } from './mock-cluster.js';
import { TEST_CLIENT_PROPERTIES, unique } from './helpers.js';
import { stateCounts } from '../runtime/job-fixture.js';
import { FORMAT_YAML, doubleBytes, expectedCounts, formatCountPipeline, lastOutputCounts, stringKeyedDoubles } from '../serialization/fixtures/format-job.js';

const PARTITIONS = 4;
let cluster: MockCluster;
t.before(async () => {
  cluster = await startMockCluster(1);
});
t.teardown(async () => {
  await cluster.stop();
});

/** A Kafka job with the given formats and extra YAML; topics created up front. */
export async function kafkaFormatJob(
  cluster: MockCluster,
  dir: string,
  options: { pipeline: (output: string) => string; inputFormats: string; outputFormats: string; extraYaml?: string; extraTopics?: readonly string[] },
) {
  const appId = unique('app');
  const input = unique('events');
  const output = unique('counts');
  for (const topic of [input, output, `changelog__${appId}--${input}--counts`, ...(options.extraTopics ?? [])]) cluster.createTopic(topic, PARTITIONS);
  await writeFile(join(dir, 'pipeline.mjs'), options.pipeline(output));
  const configPath = join(dir, 'weir.yaml');
  await writeFile(
    configPath,
    [
      `appId: ${appId}`,
      'log:',
      '  backend: kafka',
      `  brokers: "${cluster.bootstrapServers}"`,
      '  clientProperties:',
      ...Object.entries(TEST_CLIENT_PROPERTIES).map(([k, v]) => `    ${k}: ${v}`),
      'state: { dir: ./state }',
      `input: { topics: [${input}], ${options.inputFormats} }`,
      `output: { topics: [${output}], ${options.outputFormats} }`,
      'pipeline: ./pipeline.mjs',
      'commitInterval: 0.5',
      'workers: 2',
      options.extraYaml ?? '',
    ].join('\n'),
  );
  return { appId, input, output, configPath, config: () => loadConfig(configPath, {}) };
}

export async function produceTo(cluster: MockCluster, topic: string, records: readonly AppendRecord[]): Promise<void> {
  const backend = await KafkaLogBackend.open({ brokers: cluster.bootstrapServers, clientProperties: TEST_CLIENT_PROPERTIES });
  try {
    const producer = await backend.producer();
    await producer.append(records.map((r) => ({ ...r, topic })));
    await producer.close();
  } finally {
    await backend.close();
  }
}

/** Every record of `topic` (all partitions, up to the high watermarks now). */
export async function readAll(cluster: MockCluster, topic: string): Promise<LogRecord[]> {
  const backend = await KafkaLogBackend.open({ brokers: cluster.bootstrapServers, clientProperties: TEST_CLIENT_PROPERTIES });
  try {
    const reader = await backend.reader();
    const all: LogRecord[] = [];
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const { low, high } = await backend.watermarks({ topic, partition });
      for (let next = low; next < high; ) {
        const batch = await reader.read({ topic, partition }, next, 1000);
        if (batch.length === 0) break;
        all.push(...batch);
        next = batch[batch.length - 1]!.offset + 1;
      }
    }
    await reader.close();
    return all;
  } finally {
    await backend.close();
  }
}

t.test('string keys and double values in, integer counts out (Kafka)', async (t) => {
  const job = await kafkaFormatJob(cluster, t.testdir(), { pipeline: formatCountPipeline, inputFormats: FORMAT_YAML.input, outputFormats: FORMAT_YAML.output });
  const events = stringKeyedDoubles(job.input, 400, 10);
  await produceTo(cluster, job.input, events);
  const config = await job.config();
  const summary = await runJob(config, { untilIdle: true });
  t.equal(summary.records, events.length);
  t.same(await stateCounts(config), expectedCounts(events));
  t.same(lastOutputCounts(await readAll(cluster, job.output)), expectedCounts(events));
});

t.test('a record that does not deserialize is dead-lettered with its original bytes (Kafka)', async (t) => {
  const dead = unique('dead');
  const job = await kafkaFormatJob(cluster, t.testdir(), {
    pipeline: formatCountPipeline,
    inputFormats: FORMAT_YAML.input,
    outputFormats: FORMAT_YAML.output,
    extraYaml: `errors: { policy: dead-letter, deadLetterTopic: ${dead} }`,
    extraTopics: [dead],
  });
  const key = new TextEncoder().encode('user-1');
  await produceTo(cluster, job.input, [
    { topic: job.input, partition: 0, key, value: doubleBytes(1) },
    { topic: job.input, partition: 0, key, value: new Uint8Array([9, 9]) },
    { topic: job.input, partition: 0, key, value: doubleBytes(2) },
  ]);
  const config = await job.config();
  await runJob(config, { untilIdle: true });
  t.same(await stateCounts(config), new Map([['user-1', 2]]));
  const letters = await readAll(cluster, dead);
  t.equal(letters.length, 1);
  t.same([...letters[0]!.value!], [9, 9]);
  const headers = Object.fromEntries(letters[0]!.headers.map((h) => [h.key, Buffer.from(h.value!).toString()]));
  t.match(headers['weir.error'], new RegExp(`cannot deserialize the value of ${job.input}\\[0\\] offset 1 as double`));
});
