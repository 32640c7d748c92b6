/**
 * Live produce's body encoding (runtime/server/produce-batches.ts) appends exactly what
 * `weir produce`'s `parseInputLine` would: the same keys, values, headers and timestamps,
 * keyed records on the partition the backend's partitioner gives them, in input order per
 * partition; the same InputLineError for a bad line.
 */
import t from 'tap';
import fc from 'fast-check';
import { encodeRecordsBody, type EncodedBody } from '../../runtime/server/produce-batches.js';
import { parseInputLine } from '../../runtime/cli/input-record.js';
import { InputLineError } from '../../runtime/cli/cli-errors.js';
import { batchInfo, forEachRecord, writeUtf8 } from '../../shared/protocol/record-batch.js';
import { partitionForKey } from '../../shared/log/murmur2-partitioner.js';
import type { AppendRecord } from '../../shared/log/log-backend.js';

const NOW = 1_700_000_000_000;

interface Decoded {
  readonly partition: number | undefined;
  readonly key: number[] | null;
  readonly value: number[] | null;
  readonly timestamp: number;
  readonly headers: [string, number[] | null][];
}

const bytes = (b: Uint8Array | null): number[] | null => (b === null ? null : [...b]);

function decode(encoded: EncodedBody): Decoded[] {
  const out: Decoded[] = [];
  for (const { partition, batch } of encoded.batches) {
    forEachRecord(batch, 0, 0, (r) =>
      out.push({ partition, key: bytes(r.key), value: bytes(r.value), timestamp: r.timestamp, headers: r.headers.map((h) => [h.key, bytes(h.value)]) }),
    );
  }
  return out;
}

function expected(record: AppendRecord, partition: number | undefined): Decoded {
  return {
    partition,
    key: bytes(record.key),
    value: bytes(record.value),
    timestamp: record.timestamp ?? NOW,
    headers: (record.headers ?? []).map((h) => [h.key, bytes(h.value)]),
  };
}

function parseAll(lines: readonly string[]): AppendRecord[] {
  return lines.map((line, i) => parseInputLine(line, i + 1, 't')).filter((r): r is AppendRecord => r !== undefined);
}

/** Records in input order within each partition, partitions in ascending order. */
function byPartition(records: readonly AppendRecord[], partitions: number): Decoded[] {
  const placed = records.map((r) => expected(r, partitionForKey(r.key!, partitions)));
  return [...placed].sort((a, b) => a.partition! - b.partition!);
}

const jsonValue = fc.jsonValue({ maxDepth: 2 });
const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }));
const line = fc.record(
  {
    key: fc.oneof(text, fc.integer(), jsonValue),
    value: jsonValue,
    timestamp: fc.integer({ min: 0, max: 4_102_444_800_000 }),
    headers: fc.dictionary(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 8 }), text, { maxKeys: 3 }),
  },
  { requiredKeys: ['key', 'value'] },
);

t.test('keyed records: the bytes parseInputLine encodes, on their key partition', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(line, { maxLength: 40 }), fc.integer({ min: 1, max: 12 }), async (records, partitions) => {
      const lines = records.map((r) => JSON.stringify(r));
      const parsed = parseAll(lines);
      const encoded = await encodeRecordsBody(Buffer.from(lines.map((l) => `${l}\n`).join('')), partitions, NOW, { records: 5, bytes: 1 << 20 });
      if (parsed.some((r) => r.key === null)) {
        t.equal(encoded.partitions, undefined, 'a null key: unpartitioned');
        t.same(decode(encoded), parsed.map((r) => expected(r, undefined)));
      } else {
        t.equal(encoded.partitions, partitions);
        t.same(decode(encoded), byPartition(parsed, partitions));
      }
      t.equal(encoded.count, parsed.length);
      for (const { batch } of encoded.batches) t.ok(batchInfo(batch).count <= 5, 'batches within the record limit');
    }),
    { numRuns: 60 },
  );
});

t.test('unkeyed records or an unknown partition count: one sequence in input order', async (t) => {
  const lines = ['{"key":"a","value":1}', '{"value":{"x":[1, 2]}, "timestamp": 5}', '', '{"key":null,"value":null}', '{"key":"b","value":"é"}'];
  const body = Buffer.from(`\uFEFF${lines.join('\r\n')}`);
  const parsed = parseAll(lines);
  for (const partitions of [4, undefined]) {
    const encoded = await encodeRecordsBody(body, partitions, NOW);
    t.equal(encoded.partitions, undefined);
    t.equal(encoded.count, 4, 'the blank line is no record; BOM and CRLF as weir produce reads them');
    t.same(decode(encoded), parsed.map((r) => expected(r, undefined)));
    t.same(encoded.warnings, []);
  }
});

t.test('a bad line: the InputLineError parseInputLine throws, whatever the form', async (t) => {
  const cases = [
    '{"key":"a","value":1}\n{"key":"a"}\n',
    '{"key":"a","value":1}\n{oops\n',
    '{"key":"a","value":1,"extra":2}\n',
    '{"key":"a","value":1,"timestamp":"soon"}\n',
    '{"key":"a","value":1,"headers":{"h":3}}\n',
    '[1,2]\n',
  ];
  for (const body of cases) {
    let thrown: unknown;
    try {
      body.split('\n').forEach((l, i) => parseInputLine(l, i + 1, 't'));
    } catch (error) {
      thrown = error;
    }
    t.ok(thrown instanceof InputLineError, `parseInputLine refuses ${JSON.stringify(body)}`);
    for (const partitions of [3, undefined]) {
      await t.rejects(encodeRecordsBody(Buffer.from(body), partitions, NOW), thrown as Error);
      await encodeRecordsBody(Buffer.from(body), partitions, NOW).catch((error: unknown) => {
        t.ok(error instanceof InputLineError);
        t.same({ ...(error as InputLineError), message: (error as Error).message }, { ...(thrown as InputLineError), message: (thrown as Error).message });
      });
    }
  }
});

t.test('a line that is not valid UTF-8: appended with U+FFFD and named, as weir produce does', async (t) => {
  const body = Buffer.concat([Buffer.from('{"key":"c","value":"'), Buffer.from([0xff]), Buffer.from('"}\n')]);
  const encoded = await encodeRecordsBody(body, 2, NOW);
  t.equal(encoded.count, 1);
  t.match(encoded.warnings, [/line 1/]);
  t.same(decode(encoded)[0]!.value, [...Buffer.from('"\uFFFD"')]);
});

t.test('writeUtf8 writes what TextEncoder writes (lone surrogates as U+FFFD)', (t) => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })), fc.integer({ min: 0, max: 7 }), (s, at) => {
      const out = new Uint8Array(at + 3 * s.length);
      const end = writeUtf8(out, at, s);
      t.same([...out.subarray(at, end)], [...new TextEncoder().encode(s)]);
    }),
    { numRuns: 300 },
  );
  t.end();
});
