import t from 'tap';
import fc from 'fast-check';
import {
  BE64_MAX,
  appendInteger,
  decodeBE64,
  decodeBE64Number,
  decodeIntPair,
  decodeJson,
  encodeBE64,
  encodeIntPair,
  encodeJson,
  encodePrefix,
  encodeTimestampedKey,
  encodeUserKey,
  encodeWindowKey,
  joinPrefixedKey,
  parseTimestampedKey,
  parseWindowKey,
} from '../../shared/codecs/index.js';
import { decodeJsonOrText } from '../../shared/serialization/plain-formats.js';
import { StateSerializationError } from '../../shared/errors/state-errors.js';

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const compareBytes = (a: Uint8Array, b: Uint8Array): number => Buffer.compare(a, b);
const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

t.test('compact JSON matches the bytes Quix Streams writes', async (t) => {
  t.equal(text(encodeJson('string')), '"string"');
  t.equal(text(encodeJson(123)), '123');
  t.equal(text(encodeJson(123.123)), '123.123');
  t.equal(text(encodeJson(null)), 'null');
  t.equal(text(encodeJson([123, 456])), '[123,456]');
  t.equal(text(encodeJson({ key: 'value', mapping: { key: 'value' } })), '{"key":"value","mapping":{"key":"value"}}');
  t.equal(Buffer.from(encodeJson('é')).toString('utf8'), '"é"', 'UTF-8, not escaped');
  t.same(decodeJson(encodeJson({ a: [1, null, 'x'] })), { a: [1, null, 'x'] });
  for (const value of ['日本', 'x'.repeat(40), `${'y'.repeat(40)}é`, { k: '日本' }, -0.5, 1e21, true, false]) {
    t.same(Buffer.from(encodeJson(value)), Buffer.from(JSON.stringify(value), 'utf8'), `bytes of ${JSON.stringify(value)}`);
    t.same(decodeJson(encodeJson(value)), value, `round-trip of ${JSON.stringify(value)}`);
  }
  t.same(encodeJson({ a: 1, b: undefined }), encodeJson({ a: 1 }), 'undefined properties are omitted');
});

t.test('JSON rejects values without a faithful JSON form', async (t) => {
  const rejected: [string, unknown][] = [
    ['function', () => 1],
    ['symbol', Symbol('s')],
    ['bigint', 1n],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['undefined', undefined],
    ['undefined in array', [1, undefined]],
    ['Date', new Date(0)],
    ['Map', new Map()],
    ['class instance', new (class Point {})()],
    ['nested bigint', { a: { b: 2n } }],
    ['typed array', { a: new Uint8Array(1) }],
  ];
  for (const [name, value] of rejected) t.throws(() => encodeJson(value), StateSerializationError, name);
  const circular: Record<string, unknown> = {};
  circular['self'] = circular;
  t.throws(() => encodeJson(circular), StateSerializationError, 'circular');
  t.throws(() => decodeJson(Uint8Array.of(0xff, 0xfe)), StateSerializationError, 'invalid UTF-8');
  t.throws(() => decodeJson(Buffer.from('{nope')), StateSerializationError, 'invalid JSON');
});

t.test('JSON round-trips every JSON value', async (t) => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      const decoded = decodeJson(encodeJson(value));
      // -0 has no JSON form distinct from 0
      t.same(decoded, JSON.parse(JSON.stringify(value)));
      return true;
    }),
  );
});

t.test('prefixes and keys: bytes verbatim, anything else JSON; stored key prefix|key', async (t) => {
  t.equal(text(encodePrefix('my_key')), '"my_key"');
  t.equal(text(encodePrefix(Buffer.from('my_key'))), 'my_key');
  t.equal(text(encodeUserKey('count')), '"count"');
  t.equal(text(encodeUserKey(123)), '123');
  t.equal(text(encodeUserKey([1, 2])), '[1,2]');
  t.equal(text(joinPrefixedKey(Buffer.from('my_key'), encodeUserKey('count'))), 'my_key|"count"');
  t.equal(text(joinPrefixedKey(new Uint8Array(0), encodeUserKey('count'))), '"count"', 'empty prefix: no separator');
});

t.test('BE64 encodes big-endian unsigned and rejects what it cannot hold', async (t) => {
  t.equal(hex(encodeBE64(1)), '0000000000000001');
  t.equal(hex(encodeBE64(0x0102030405060708n)), '0102030405060708');
  t.equal(hex(encodeBE64(BE64_MAX)), 'ffffffffffffffff');
  t.equal(hex(encodeBE64(Number.MAX_SAFE_INTEGER)), '001fffffffffffff');
  t.throws(() => encodeBE64(-1), RangeError);
  t.throws(() => encodeBE64(-1n), RangeError);
  t.throws(() => encodeBE64(BE64_MAX + 1n), RangeError);
  t.throws(() => encodeBE64(1.5), RangeError);
  t.throws(() => encodeBE64(Number.MAX_SAFE_INTEGER + 1), RangeError);
  t.equal(decodeBE64(encodeBE64(BE64_MAX)), BE64_MAX);
  t.throws(() => decodeBE64Number(encodeBE64(BE64_MAX)), RangeError);
  t.throws(() => decodeBE64(new Uint8Array(7)), RangeError);
});

t.test('BE64 round-trips and byte order equals numeric order', async (t) => {
  const big = fc.bigInt({ min: 0n, max: BE64_MAX });
  fc.assert(fc.property(big, (n) => decodeBE64(encodeBE64(n)) === n));
  fc.assert(fc.property(fc.maxSafeNat(), (n) => decodeBE64Number(encodeBE64(n)) === n));
  fc.assert(
    fc.property(big, big, (a, b) => sign(compareBytes(encodeBE64(a), encodeBE64(b))) === (a < b ? -1 : a > b ? 1 : 0)),
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 8 }), fc.maxSafeNat(), fc.maxSafeNat(), (prefix, a, b) =>
      sign(compareBytes(appendInteger(prefix, a), appendInteger(prefix, b))) === sign(a - b),
    ),
  );
  t.pass('properties hold');
});

t.test('integer pairs, append-integer, window and timestamped keys', async (t) => {
  const pair = encodeIntPair(1, 2);
  t.equal(pair.length, 17);
  t.equal(hex(pair), '0000000000000001' + '7c' + '0000000000000002');
  t.same(decodeIntPair(pair), [1n, 2n]);
  t.equal(hex(appendInteger(Buffer.from('a'), 3)), '61' + '7c' + '0000000000000003');

  const window = encodeWindowKey(Buffer.from('key'), 10, 20);
  t.equal(hex(window), Buffer.from('key|').toString('hex') + hex(encodeIntPair(10, 20)));
  t.same(parseWindowKey(window), { prefix: Buffer.from('key'), start: 10, end: 20 });
  t.equal(encodeWindowKey(new Uint8Array(0), 1, 2).length, 17, 'empty prefix: the pair alone, like Quix Streams');
  t.same(parseWindowKey(encodeWindowKey(new Uint8Array(0), 1, 2)), { prefix: new Uint8Array(0), start: 1, end: 2 });
  t.throws(() => parseWindowKey(Buffer.from('short')), RangeError);

  const timestamped = encodeTimestampedKey(new Uint8Array(0), 5, 7n);
  t.equal(timestamped.length, 18, 'always with the separator');
  t.equal(timestamped[0], 0x7c);
  t.same(parseTimestampedKey(timestamped), { prefix: new Uint8Array(0), timestamp: 5, counter: 7n });

  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 16 }), fc.maxSafeNat(), fc.maxSafeNat(), (prefix, s, e) => {
      const parsed = parseWindowKey(encodeWindowKey(prefix, s, e));
      return Buffer.from(parsed.prefix).equals(Buffer.from(prefix)) && parsed.start === s && parsed.end === e;
    }),
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 16 }), fc.maxSafeNat(), fc.bigInt({ min: 0n, max: BE64_MAX }), (prefix, ts, c) => {
      const parsed = parseTimestampedKey(encodeTimestampedKey(prefix, ts, c));
      return Buffer.from(parsed.prefix).equals(Buffer.from(prefix)) && parsed.timestamp === ts && parsed.counter === c;
    }),
  );
});

t.test('JSON strings read by hand (printable ASCII, no escapes) decode as JSON.parse does', (t) => {
  // Strings near the hand-read path's edges: quotes, backslashes, control and non-ASCII characters.
  const tricky = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', '~', '"', '\\', '\n', '\u007f', 'é', '✓', '\u0000'), maxLength: 300 });
  fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 300 }), tricky), (s) => decodeJson(encodeJson(s)) === s));
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
      let expected: unknown;
      try {
        expected = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
      } catch {
        expected = 'ERROR';
      }
      let actual: unknown;
      try {
        actual = decodeJson(bytes);
      } catch {
        actual = 'ERROR';
      }
      // A record key or value that is not JSON reads as its text.
      const text = new TextDecoder().decode(bytes);
      let lenient: unknown;
      try {
        lenient = JSON.parse(text);
      } catch {
        lenient = text;
      }
      return JSON.stringify(actual) === JSON.stringify(expected) && JSON.stringify(decodeJsonOrText(bytes)) === JSON.stringify(lenient);
    }),
    { numRuns: 2000 },
  );
  t.equal(decodeJson(Buffer.from('"user-42"')), 'user-42');
  t.equal(decodeJson(Buffer.from('"a\\"b"')), 'a"b', 'an escaped quote is parsed');
  t.equal(decodeJson(Buffer.from('""')), '', 'the empty string');
  t.end();
});
