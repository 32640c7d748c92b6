/**
 * The Avro-in, Protobuf-out job on the Kafka backend (librdkafka's mock cluster) with a
 * schema registry served over HTTP by the test: string keys, Avro values written with an
 * older schema than the job reads with, counts in state, Protobuf outputs, and an
 * undecodable record dead-lettered with its original bytes.
 */
import t from 'tap';
import { runJob } from '../../runtime/job-runner.js';
import { dumpState } from '../../runtime/state-inspection.js';
import { startMockCluster, type MockCluster } from './mock-cluster.js';
import { kafkaJob, produceTo, readAll, unique } from './helpers.js';
import { startSchemaRegistry, type TestSchemaRegistry } from '../serialization/fixtures/schema-registry-server.js';
import { avroJobPipeline, avroJobYaml, avroOrders, expectedOrderCounts, lastCounts, writeAvroJobSchemas } from '../serialization/fixtures/avro-job.js';
import type { SchemaRegistryConfig } from '../../shared/serialization/schema-registry-config.js';

let cluster: MockCluster;
let registry: TestSchemaRegistry;
let registryConfig: SchemaRegistryConfig;
t.before(async () => {
  cluster = await startMockCluster(1);
  registry = await startSchemaRegistry();
  registryConfig = { url: registry.url, maxRetries: 2, retryBackoffMs: 10, retryMaxBackoffMs: 50, requestTimeoutMs: 2000 };
});
t.teardown(async () => {
  await registry.close();
  await cluster.stop();
});

t.test('Avro values with string keys in, counts in state, Protobuf out; a bad record dead-lettered (Kafka)', async (t) => {
  const dir = t.testdir();
  const files = writeAvroJobSchemas(dir);
  const yaml = avroJobYaml(registry.url);
  const dead = unique('dead');
  const job = await kafkaJob(cluster, dir, {
    pipeline: avroJobPipeline,
    inputExtra: yaml.input,
    outputExtra: yaml.output,
    extraYaml: [yaml.registry, `errors: { policy: dead-letter, deadLetterTopic: ${dead} }`].join('\n'),
    extraTopics: [dead],
  });
  const orders = await avroOrders(job.input, 200, 7, registryConfig, files.v1);
  const bad = { topic: job.input, key: orders[0]!.key, value: new TextEncoder().encode('not avro') };
  await produceTo(cluster, job.input, [...orders, bad]);
  const config = await job.config();
  const summary = await runJob(config, { untilIdle: true });
  t.equal(summary.records, orders.length + 1);
  const expected = expectedOrderCounts(orders);
  t.same(await lastCounts(await readAll(cluster, job.output), job.output, registryConfig), new Map([...expected].map(([k, v]) => [k, { ...v, currency: 'EUR' }])));
  const state = new Map<string, number>();
  for await (const entry of dumpState(config, 'counts')) if (entry.stateKey === 'count') state.set(entry.key as string, entry.value as number);
  t.same(state, new Map([...expected].map(([k, v]) => [k, v.count])));
  const letters = await readAll(cluster, dead);
  t.equal(letters.length, 1);
  t.equal(Buffer.from(letters[0]!.value!).toString(), 'not avro', 'original bytes');
});
