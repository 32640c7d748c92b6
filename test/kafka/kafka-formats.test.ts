/**
 * Formats on the Kafka backend (librdkafka's mock cluster in this process): the
 * string-key/double-value count job and a record that does not deserialize, as on the
 * local log; the Avro-in/Protobuf-out job with the schema registry is in
 * kafka-registry.test.ts.
 */
import t from 'tap';
import { runJob } from '../../runtime/job-runner.js';
import { startMockCluster, type MockCluster } from './mock-cluster.js';
import { kafkaJob, produceTo, readAll, unique } from './helpers.js';
import { stateCounts } from '../runtime/job-fixture.js';
import { FORMAT_YAML, doubleBytes, expectedCounts, formatCountPipeline, lastOutputCounts, stringKeyedDoubles } from '../serialization/fixtures/format-job.js';

let cluster: MockCluster;
t.before(async () => {
  cluster = await startMockCluster(1);
});
t.teardown(async () => {
  await cluster.stop();
});

t.test('string keys and double values in, integer counts out (Kafka)', async (t) => {
  const job = await kafkaJob(cluster, t.testdir(), { pipeline: formatCountPipeline, inputExtra: FORMAT_YAML.input, outputExtra: FORMAT_YAML.output });
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
  const job = await kafkaJob(cluster, t.testdir(), {
    pipeline: formatCountPipeline,
    inputExtra: FORMAT_YAML.input,
    outputExtra: FORMAT_YAML.output,
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

t.test('every format round-trips through Kafka', async (t) => {
  const { openBackend } = await import('./helpers.js');
  const { startSchemaRegistry } = await import('../serialization/fixtures/schema-registry-server.js');
  const { roundTripEveryFormat } = await import('../serialization/fixtures/log-round-trip.js');
  const dir = t.testdir();
  const registry = await startSchemaRegistry();
  const backend = await openBackend(cluster);
  t.teardown(async () => {
    await backend.close();
    await registry.close();
  });
  await roundTripEveryFormat(t, backend, dir, { url: registry.url, maxRetries: 1, retryBackoffMs: 10, retryMaxBackoffMs: 50, requestTimeoutMs: 2000 }, async (format) => {
    const topic = unique(`round-trip-${format}`);
    cluster.createTopic(topic, 1);
    return topic;
  });
});
