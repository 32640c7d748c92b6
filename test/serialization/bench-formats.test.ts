/** `weir bench` input for jobs with formats: generated Avro and Protobuf records in the wire format. */
import t from 'tap';
import { openBenchInput } from '../../bench/engine/bench-input.js';
import type { GeneratedInputSpec } from '../../bench/engine/bench-options.js';
import { TopicFormats } from '../../shared/serialization/topic-formats.js';
import type { SchemaRegistryConfig } from '../../shared/serialization/schema-registry-config.js';
import type { AppendRecord } from '../../shared/log/log-backend.js';
import { startSchemaRegistry, type TestSchemaRegistry } from './fixtures/schema-registry-server.js';
import { writeAvroJobSchemas } from './fixtures/avro-job.js';

let registry: TestSchemaRegistry;
let config: SchemaRegistryConfig;
t.before(async () => {
  registry = await startSchemaRegistry();
  config = { url: registry.url, maxRetries: 1, retryBackoffMs: 10, retryMaxBackoffMs: 50, requestTimeoutMs: 2000 };
});
t.teardown(() => registry.close());

const spec = (value: GeneratedInputSpec['value']): GeneratedInputSpec => ({
  kind: 'generated',
  records: 50,
  keys: 5,
  distribution: 'uniform',
  zipfExponent: 1,
  value,
  eventsPerSecond: 1000,
  disorderMs: 0,
  startTimestamp: 1_000,
  seed: 3,
});

async function all(formats: TopicFormats, topic: string, value: GeneratedInputSpec['value']): Promise<AppendRecord[]> {
  const input = await openBenchInput(spec(value), formats.of(topic));
  const out: AppendRecord[] = [];
  for await (const batch of input.batches(topic)) out.push(...batch);
  return out;
}

t.test('generated Avro and Protobuf input reads back through the registry, keys as strings', async (t) => {
  const files = writeAvroJobSchemas(t.testdir());
  const writers = await TopicFormats.create({
    read: {},
    write: {
      orders: { key: { type: 'string' }, value: { type: 'avro', schema: files.v1 } },
      counts: { key: { type: 'string' }, value: { type: 'protobuf', schema: files.proto } },
    },
    schemaRegistry: config,
  });
  const readers = await TopicFormats.create({
    read: { orders: { key: { type: 'string' }, value: { type: 'avro' } }, counts: { key: { type: 'string' }, value: { type: 'protobuf' } } },
    write: {},
    schemaRegistry: config,
  });
  t.teardown(() => {
    writers.close();
    readers.close();
  });
  const orders = await all(writers, 'orders', { id: 'order-{{index}}', amount: '{{index}}' });
  t.equal(orders.length, 50);
  const reader = readers.of('orders');
  await reader.value.prepare?.(orders[7]!.value!);
  t.same(reader.value.deserialize(orders[7]!.value!), { id: 'order-7', amount: 7 });
  t.match(reader.key.deserialize(orders[7]!.key!), /^key-\d$/);
  const counts = await all(writers, 'counts', { key: '{{key}}', count: '{{index}}' });
  const protobuf = readers.of('counts').value;
  await protobuf.prepare?.(counts[3]!.value!);
  t.match(protobuf.deserialize(counts[3]!.value!), { count: 3, key: /^key-\d$/ });
});

t.test('a generated value the schema cannot hold fails the input naming the format', async (t) => {
  const files = writeAvroJobSchemas(t.testdir());
  const writers = await TopicFormats.create({ read: {}, write: { orders: { key: { type: 'string' }, value: { type: 'avro', schema: files.v1 } } }, schemaRegistry: config });
  t.teardown(() => writers.close());
  await t.rejects(all(writers, 'orders', { n: '{{index}}' }), { code: 'SERIALIZATION_FAILED', message: /as avro: does not match the schema/ });
});
