/**
 * avro, protobuf and json-schema against a real HTTP schema registry started here: the
 * shared round-trip conformance (written with the local schema, read back by a reader
 * that fetches the writer's schema by id), the wire format, schema evolution, and a
 * registry that cannot be reached or does not know an id.
 */
import t from 'tap';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';
import { TopicFormats } from '../../shared/serialization/topic-formats.js';
import type { FormatSpec } from '../../shared/serialization/format.js';
import type { SchemaRegistryConfig } from '../../shared/serialization/schema-registry-config.js';
import { DeserializationError, SchemaRegistryUnreachableError } from '../../shared/errors/serialization-errors.js';
import { startSchemaRegistry, type TestSchemaRegistry } from './fixtures/schema-registry-server.js';
import { formatConformance } from './format-conformance.js';

export const ORDER_V1 = {
  type: 'record',
  name: 'Order',
  namespace: 'weir.test',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'qty', type: 'int' },
  ],
};
export const ORDER_V2 = { ...ORDER_V1, fields: [...ORDER_V1.fields, { name: 'currency', type: 'string', default: 'EUR' }] };
export const COUNT_PROTO = `syntax = "proto3";
package weir.test;
message Other { message Inner { int32 x = 1; } Inner inner = 1; }
message Count { string key = 1; int64 count = 2; }
`;
const TAGS_SCHEMA = {
  type: 'object',
  properties: { name: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } },
  required: ['name'],
  additionalProperties: false,
};

let registry: TestSchemaRegistry;
t.before(async () => {
  registry = await startSchemaRegistry();
});
t.teardown(() => registry.close());

const registryConfig = (url: string, extra: Partial<SchemaRegistryConfig> = {}): SchemaRegistryConfig => ({
  url,
  maxRetries: 2,
  retryBackoffMs: 10,
  retryMaxBackoffMs: 50,
  requestTimeoutMs: 2_000,
  ...extra,
});

function schemaFiles(dir: string): Record<string, string> {
  const files = { v1: join(dir, 'order-v1.avsc'), v2: join(dir, 'order-v2.avsc'), proto: join(dir, 'count.proto'), json: join(dir, 'tags.json') };
  writeFileSync(files.v1, JSON.stringify(ORDER_V1));
  writeFileSync(files.v2, JSON.stringify(ORDER_V2));
  writeFileSync(files.proto, COUNT_PROTO);
  writeFileSync(files.json, JSON.stringify(TAGS_SCHEMA));
  return files;
}

/** A writer of `spec` for `topic`'s values and a reader with no local schema. */
async function writerAndReader(topic: string, spec: FormatSpec, url = registry.url) {
  const config = registryConfig(url);
  const writer = await TopicFormats.create({ read: {}, write: { [topic]: { key: { type: 'string' }, value: spec } }, schemaRegistry: config });
  const reader = await TopicFormats.create({ read: { [topic]: { key: { type: 'string' }, value: { type: spec.type } } }, write: {}, schemaRegistry: config });
  t.teardown(() => {
    writer.close();
    reader.close();
  });
  return { writer: writer.format(topic, 'value'), reader: reader.format(topic, 'value') };
}

const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });

t.test('conformance of avro, protobuf and json-schema through the registry', async (t) => {
  const files = schemaFiles(t.testdir());
  const orders = await writerAndReader('orders', { type: 'avro', schema: files.v1 });
  await formatConformance(t, 'avro', {
    format: orders.writer,
    reader: orders.reader,
    values: fc.record({ id: fc.string({ unit: 'grapheme' }), amount: fc.double(), qty: int32 }),
    refused: [{ id: 1, amount: 1, qty: 1 }, { id: 'a' }, 'text', null],
  });
  const counts = await writerAndReader('counts', { type: 'protobuf', schema: files.proto, message: 'weir.test.Count' });
  await formatConformance(t, 'protobuf', {
    format: counts.writer,
    reader: counts.reader,
    values: fc.record({ key: fc.string({ unit: 'grapheme' }), count: fc.maxSafeInteger() }),
    refused: [{ key: 1 }, { count: 'x' }, 'text'],
  });
  const tags = await writerAndReader('tags', { type: 'json-schema', schema: files.json });
  await formatConformance(t, 'json-schema', {
    format: tags.writer,
    reader: tags.reader,
    values: fc.record({ name: fc.string(), tags: fc.array(fc.string()) }, { requiredKeys: ['name'] }),
    refused: [{ name: 3 }, { tags: [] }, { name: 'a', extra: 1 }],
  });
});

t.test('the Confluent wire format: magic byte 0, 4-byte big-endian schema id, then the payload', async (t) => {
  const files = schemaFiles(t.testdir());
  const { writer } = await writerAndReader('wire-orders', { type: 'avro', schema: files.v1 });
  const order = { id: 'o-1', amount: 9.5, qty: 2 };
  const bytes = writer.serialize(order);
  const id = registry.register('wire-orders-value', JSON.stringify(avro.Type.forSchema(ORDER_V1 as avro.Schema).schema()));
  t.same([...bytes.subarray(0, 5)], [0, 0, 0, 0, id], 'header with the registered id');
  t.same(Buffer.from(bytes.subarray(5)), avro.Type.forSchema(ORDER_V1 as avro.Schema).toBuffer(order), 'the Avro binary encoding');
  t.ok(registry.requests.includes('POST /subjects/wire-orders-value/versions'), 'registered under <topic>-value (TopicNameStrategy)');

  const { writer: protoWriter } = await writerAndReader('wire-counts', { type: 'protobuf', schema: files.proto, message: 'weir.test.Count' });
  const proto = protoWriter.serialize({ key: 'k', count: 3 });
  t.same([...proto.subarray(5, 8)], [2, 2, 0x0a], 'message indexes [1] (Count is the second message): count 1 zigzag, index 1 zigzag; then field 1');
  const { writer: first } = await writerAndReader('wire-other', { type: 'protobuf', schema: files.proto, message: 'weir.test.Other' });
  t.equal(first.serialize({ inner: { x: 1 } })[5], 0, 'the first message is the single byte 0');
});

t.test('schema evolution: a reader with a newer compatible schema reads records of the older one', async (t) => {
  const files = schemaFiles(t.testdir());
  const config = registryConfig(registry.url);
  const v1 = await TopicFormats.create({ read: {}, write: { evolving: { key: { type: 'string' }, value: { type: 'avro', schema: files.v1 } } }, schemaRegistry: config });
  const v2 = await TopicFormats.create({ read: { evolving: { key: { type: 'string' }, value: { type: 'avro', schema: files.v2 } } }, write: {}, schemaRegistry: config });
  t.teardown(() => {
    v1.close();
    v2.close();
  });
  const old = v1.format('evolving', 'value').serialize({ id: 'o-1', amount: 1.25, qty: 4 });
  const reader = v2.format('evolving', 'value');
  await reader.prepare?.(old);
  t.same(reader.deserialize(old), { id: 'o-1', amount: 1.25, qty: 4, currency: 'EUR' }, 'the new field takes its default');
  t.equal(Object.getPrototypeOf(reader.deserialize(old)), Object.prototype, 'a plain object (state can store it)');
});

t.test('an unknown schema id fails that record, naming the id; bytes without the wire format too', async (t) => {
  const { reader } = await writerAndReader('unknown-ids', { type: 'avro', schema: schemaFiles(t.testdir()).v1 });
  const bytes = new Uint8Array([0, 0, 0, 3, 0xe7, 1, 2]);
  await reader.prepare?.(bytes);
  t.throws(() => reader.deserialize(bytes), { code: 'DESERIALIZATION_FAILED', message: /schema id 999:.*HTTP 404/ });
  t.throws(() => reader.deserialize(new Uint8Array([7, 1, 2, 3, 4, 5])), new DeserializationError('avro', 'expected magic byte 0 of the schema registry wire format, got 7'));
});

t.test('a registry that cannot be reached: retried with backoff, then a named error', async (t) => {
  const files = schemaFiles(t.testdir());
  registry.failNext(2);
  const before = registry.requests.length;
  const { writer } = await writerAndReader('flaky', { type: 'avro', schema: files.v1 });
  t.ok(registry.requests.length - before >= 3, 'two 503s, then the retry that worked');
  t.ok(writer.serialize({ id: 'a', amount: 1, qty: 1 }).length > 5);

  const closed = await startSchemaRegistry();
  const url = closed.url;
  await closed.close();
  const error = await TopicFormats.create({
    read: {},
    write: { down: { key: { type: 'string' }, value: { type: 'avro', schema: files.v1 } } },
    schemaRegistry: registryConfig(url),
  }).then(() => undefined, (e: unknown) => e);
  t.type(error, SchemaRegistryUnreachableError);
  t.match((error as Error).message, new RegExp(`schema registry ${url} unreachable \\(register a schema under subject down-value, 3 attempts with backoff\\)`));

  const reader = await TopicFormats.create({ read: { down: { key: { type: 'string' }, value: { type: 'avro' } } }, write: {}, schemaRegistry: registryConfig(url) });
  await t.rejects(reader.format('down', 'value').prepare!(new Uint8Array([0, 0, 0, 0, 1, 2])) as Promise<void>, SchemaRegistryUnreachableError, 'reading: never a guessed value');
  reader.close();
});

t.test('basic auth credentials are sent', async (t) => {
  const files = schemaFiles(t.testdir());
  const formats = await TopicFormats.create({
    read: {},
    write: { authed: { key: { type: 'string' }, value: { type: 'avro', schema: files.v1 } } },
    schemaRegistry: registryConfig(registry.url, { username: 'api-key', password: 's3cret' }),
  });
  formats.close();
  t.equal(registry.lastAuth(), 'api-key:s3cret');
});
