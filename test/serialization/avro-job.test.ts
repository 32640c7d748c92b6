/**
 * A job reading Avro values with string keys, counting into state and emitting Protobuf,
 * on the local log, with a test schema registry over HTTP; the input is written with an
 * older schema than the job reads with. Then records that do not deserialize under the
 * skip and dead-letter policies.
 */
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { runJob } from '../../runtime/job-runner.js';
import { appendEvents, createJobFixture, readTopic } from '../runtime/job-fixture.js';
import { dumpState } from '../../runtime/state-inspection.js';
import { startSchemaRegistry, type TestSchemaRegistry } from './fixtures/schema-registry-server.js';
import { avroJobPipeline, avroJobYaml, avroOrders, expectedOrderCounts, lastCounts, writeAvroJobSchemas } from './fixtures/avro-job.js';
import type { SchemaRegistryConfig } from '../../shared/serialization/schema-registry-config.js';

let registry: TestSchemaRegistry;
let registryConfig: SchemaRegistryConfig;
t.before(async () => {
  registry = await startSchemaRegistry();
  registryConfig = { url: registry.url, maxRetries: 2, retryBackoffMs: 10, retryMaxBackoffMs: 50, requestTimeoutMs: 2000 };
});
t.teardown(() => registry.close());

async function avroFixture(dir: string, extraYaml = '') {
  const files = writeAvroJobSchemas(dir);
  const yaml = avroJobYaml(registry.url);
  const f = await createJobFixture(dir, { partitions: 2, pipeline: avroJobPipeline('counts'), extraYaml: [yaml.registry, extraYaml].join('\n') });
  const text = await readFile(f.configPath, 'utf8');
  await writeFile(
    f.configPath,
    text.replace('input: { topics: [events] }', `input: { topics: [events], ${yaml.input} }`).replace('output: { topics: [counts] }', `output: { topics: [counts], ${yaml.output} }`),
  );
  return { fixture: f, files };
}

t.test('Avro values with string keys in, counts in state, Protobuf out; read with a newer schema', async (t) => {
  const { fixture, files } = await avroFixture(t.testdir());
  const orders = await avroOrders('events', 300, 9, registryConfig, files.v1);
  await appendEvents(fixture, orders, 2);
  const config = await fixture.config();
  const summary = await runJob(config, { untilIdle: true });
  t.equal(summary.records, orders.length);
  const expected = expectedOrderCounts(orders);
  const outputs = await lastCounts(await readTopic(fixture.logPath, 'counts'), 'counts', registryConfig);
  t.same(outputs, new Map([...expected].map(([k, v]) => [k, { ...v, currency: 'EUR' }])), 'Protobuf counts per string key; currency from the reader default');
  const state = new Map<string, number>();
  for await (const entry of dumpState(config, 'counts')) if (entry.stateKey === 'count') state.set(entry.key as string, entry.value as number);
  t.same(state, new Map([...expected].map(([k, v]) => [k, v.count])), 'state keyed by the plain string keys');
  t.ok(registry.requests.includes('POST /subjects/counts-value/versions'), 'the output schema was registered under counts-value');
});

const badOrders = (good: readonly { key: Uint8Array | null; value: Uint8Array | null }[]) => [
  { topic: 'events', partition: 0, key: good[0]!.key, value: good[0]!.value },
  { topic: 'events', partition: 0, key: good[0]!.key, value: new TextEncoder().encode('{"id":"not avro"}') },
  { topic: 'events', partition: 0, key: good[0]!.key, value: new Uint8Array([0, 0, 0, 0x7f, 0x7f, 1]) },
  { topic: 'events', partition: 0, key: good[0]!.key, value: good[1]!.value },
];

for (const policy of ['skip', 'dead-letter'] as const) {
  t.test(`Avro records that do not deserialize under ${policy}: bad magic byte, unknown schema id`, async (t) => {
    const { fixture, files } = await avroFixture(t.testdir(), `errors: { policy: ${policy}${policy === 'dead-letter' ? ', deadLetterTopic: failed' : ''} }`);
    const good = await avroOrders('events', 2, 1, registryConfig, files.v1);
    await appendEvents(fixture, badOrders(good), 2);
    const config = { ...(await fixture.config()), workers: 1 };
    await runJob(config, { untilIdle: true });
    const outputs = await lastCounts(await readTopic(fixture.logPath, 'counts'), 'counts', registryConfig);
    t.equal(outputs.get('customer-0')?.count, 2, 'only the two good records counted');
    if (policy === 'dead-letter') {
      const dead = await readTopic(fixture.logPath, 'failed');
      t.equal(dead.length, 2);
      t.same(Buffer.from(dead[0]!.value!).toString(), '{"id":"not avro"}', 'original bytes');
      const errors = dead.map((d) => Buffer.from(d.headers.find((h) => h.key === 'weir.error')!.value!).toString());
      t.match(errors[0], /cannot deserialize the value of events\[0\] offset 1 as avro: expected magic byte 0/);
      t.match(errors[1], /events\[0\] offset 2 as avro: schema id 32639: .*HTTP 404/);
    }
  });
}

t.test('a job whose registry is down stops with the named error and processes nothing', async (t) => {
  const { fixture, files } = await avroFixture(t.testdir());
  await appendEvents(fixture, await avroOrders('events', 5, 1, registryConfig, files.v1), 2);
  const down = await startSchemaRegistry();
  await down.close();
  const config = { ...(await fixture.config()), workers: 1, schemaRegistry: { ...registryConfig, url: down.url } };
  const error = await runJob(config, { untilIdle: true }).then(() => undefined, (e: unknown) => e);
  t.match((error as Error)?.message, new RegExp(`schema registry ${down.url} unreachable`));
});
