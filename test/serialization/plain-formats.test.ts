/**
 * The schema-less formats: the shared round-trip conformance, Kafka's byte layouts, and
 * the errors of bytes a format cannot read.
 */
import t from 'tap';
import fc from 'fast-check';
import { BytesFormat, DoubleFormat, IntegerFormat, JsonFormat, StringFormat } from '../../shared/serialization/plain-formats.js';
import { DeserializationError } from '../../shared/errors/serialization-errors.js';
import { TopicFormats } from '../../shared/serialization/topic-formats.js';
import { formatConformance } from './format-conformance.js';

const target = { topic: 'events', field: 'value' } as const;
const utf8 = new TextEncoder();

t.test('conformance of json, string, bytes, integer and double', async (t) => {
  await formatConformance(t, 'json', {
    format: new JsonFormat(target),
    values: fc.jsonValue(),
    // JSON has one zero: -0 is written as 0.
    expected: (v) => JSON.parse(JSON.stringify(v)) as unknown,
    refused: [undefined, () => 1, 10n, new Date(0), Number.NaN, { a: new Map() }],
  });
  await formatConformance(t, 'string', {
    format: new StringFormat(target),
    values: fc.string({ unit: 'grapheme', maxLength: 40 }),
    refused: [1, null, { a: 1 }, utf8.encode('x')],
  });
  await formatConformance(t, 'bytes', {
    format: new BytesFormat(target),
    values: fc.uint8Array({ maxLength: 64 }),
    refused: ['text', 1, null, [1, 2]],
  });
  await formatConformance(t, 'integer', {
    format: new IntegerFormat(target),
    values: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    refused: [1.5, 2 ** 31, -(2 ** 31) - 1, '1', null, Number.NaN],
  });
  await formatConformance(t, 'double', {
    format: new DoubleFormat(target),
    values: fc.double(),
    refused: ['1.5', null, 1n],
  });
});

t.test("byte layouts are Kafka's: big-endian int32 and float64, UTF-8 text, compact JSON", async (t) => {
  t.same([...new IntegerFormat(target).serialize(1)], [0, 0, 0, 1]);
  t.same([...new IntegerFormat(target).serialize(-2)], [0xff, 0xff, 0xff, 0xfe]);
  t.same([...new DoubleFormat(target).serialize(1.5)], [0x3f, 0xf8, 0, 0, 0, 0, 0, 0]);
  t.same(Buffer.from(new StringFormat(target).serialize('user-1')).toString(), 'user-1');
  t.same(Buffer.from(new JsonFormat(target).serialize({ a: [1, 'x'] })).toString(), '{"a":[1,"x"]}');
});

t.test('bytes a strict format cannot read are a DeserializationError saying why', async (t) => {
  t.throws(() => new IntegerFormat(target).deserialize(new Uint8Array(3)), new DeserializationError('integer', 'expected 4 bytes, got 3'));
  t.throws(() => new DoubleFormat(target).deserialize(new Uint8Array(4)), new DeserializationError('double', 'expected 8 bytes, got 4'));
  t.throws(() => new StringFormat(target).deserialize(new Uint8Array([0xff, 0xfe])), { code: 'DESERIALIZATION_FAILED', message: /invalid UTF-8/ });
  t.equal(new JsonFormat(target).deserialize(utf8.encode('plain text')), 'plain text', 'JSON hands non-JSON over as text (never fails)');
  t.ok(new JsonFormat(target).lenient && !new StringFormat(target).lenient, 'only JSON is lenient');
});

t.test('TopicFormats: configured topics get their formats, others JSON', async (t) => {
  const formats = await TopicFormats.create({
    read: { events: { key: { type: 'string' }, value: { type: 'integer' } } },
    write: { counts: { key: { type: 'string' }, value: { type: 'double' } } },
  });
  t.equal(formats.format('events', 'key').name, 'string');
  t.equal(formats.format('events', 'value').name, 'integer');
  t.equal(formats.format('counts', 'value').name, 'double');
  t.equal(formats.format('elsewhere', 'value').name, 'json');
  t.ok(formats.format('counts', 'key').sameEncodingAs(formats.format('events', 'key')), 'string keys can be reused between topics');
  t.notOk(formats.format('counts', 'value').sameEncodingAs(formats.format('events', 'value')));
});
