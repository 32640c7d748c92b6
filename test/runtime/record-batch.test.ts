/**
 * The record batch and batch set encodings (shared/protocol/record-batch.ts): what the
 * local log stores, what a worker receives and what it hands back to be appended.
 */
import t from 'tap';
import fc from 'fast-check';
import {
  batchInfo,
  batchesOf,
  buildBatchSet,
  countFrom,
  decodeBatchSet,
  encodeBatchSet,
  encodeHeaderBlock,
  recordBytesWithHeaderBlock,
  forEachRecordKey,
  RecordBatchBuilder,
} from '../../shared/protocol/record-batch.js';
import { RecordBatchFormatError } from '../../shared/errors/log-errors.js';
import type { LogRecord } from '../../shared/log/log-backend.js';

const bytes = fc.option(fc.uint8Array({ maxLength: 64 }), { nil: null });
const body = fc.record({
  key: bytes,
  value: bytes,
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 20 }), value: bytes }), { maxLength: 3 }),
  timestamp: fc.maxSafeNat(),
});

const plain = (r: Pick<LogRecord, 'offset' | 'key' | 'value' | 'headers' | 'timestamp'>) => ({
  offset: r.offset,
  timestamp: r.timestamp,
  key: r.key === null ? null : [...r.key],
  value: r.value === null ? null : [...r.value],
  headers: r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : [...h.value] })),
});

t.test('batches round-trip through a batch set, with offset gaps and reads that start and end inside a batch', async (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.tuple(body, fc.integer({ min: 1, max: 3 })), { minLength: 1, maxLength: 20 }), { maxLength: 4 }),
      fc.nat(40),
      fc.option(fc.nat(60), { nil: undefined }),
      (batches, skip, take) => {
        const expected: ReturnType<typeof plain>[] = [];
        const stored: { baseOffset: number; batch: Uint8Array }[] = [];
        let next = 100;
        for (const records of batches) {
          const builder = new RecordBatchBuilder(16);
          const base = next;
          for (const [r, step] of records) {
            builder.add(r.timestamp, r.key, r.value, r.headers, next - base);
            expected.push(plain({ ...r, offset: next }));
            next += step;
          }
          stored.push({ baseOffset: base, batch: builder.finish() });
        }
        const from = 100 + skip;
        const to = take === undefined ? Number.POSITIVE_INFINITY : from + take;
        const decoded = decodeBatchSet(buildBatchSet(from, stored, to), 'events', 3);
        t.same(decoded.map(plain), expected.filter((r) => r.offset >= from && r.offset < to));
        for (const d of decoded) t.equal(d.topic, 'events');
        const counted = stored.reduce((n, b) => n + countFrom(b.batch, b.baseOffset, from, to), 0);
        t.equal(counted, decoded.length, 'countFrom agrees with decoding');
      },
    ),
    { numRuns: 150 },
  );
});

t.test('a record copied by its span (addCopy) equals the record added field by field, at its new offset', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(body, fc.boolean()), { minLength: 1, maxLength: 20 }), fc.nat(5), (records, shift) => {
      const source = new RecordBatchBuilder(16);
      records.forEach(([r], i) => source.add(r.timestamp, r.key, r.value, r.headers, i * 2));
      const batch = source.finish();
      // Keep the flagged records, re-based so the first kept one is at delta `shift`.
      const copy = new RecordBatchBuilder(16);
      const expected: ReturnType<typeof plain>[] = [];
      let i = 0;
      forEachRecordKey(batch, 10, (offset, _keyAt, _keyLength, _timestamp, _valueIsNull, start, end) => {
        const [r, keep] = records[i++]!;
        if (!keep) return;
        copy.addCopy(batch, start, end, offset - 10 + shift);
        expected.push(plain({ ...r, offset: 10 + offset - 10 + shift }));
      });
      if (expected.length === 0) return;
      const decoded = decodeBatchSet(buildBatchSet(0, [{ baseOffset: 10, batch: copy.finish() }]), 'events', 0);
      t.same(decoded.map(plain), expected);
    }),
    { numRuns: 150 },
  );
});

t.test('header names of any UTF-16 (non-ASCII, lone surrogates) are stored as TextEncoder writes them', async (t) => {
  const utf8 = new TextEncoder();
  const text = new TextDecoder();
  fc.assert(
    fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 30 }), { minLength: 1, maxLength: 4 }), (names) => {
      const builder = new RecordBatchBuilder(16);
      builder.add(1, null, null, names.map((key) => ({ key, value: null })));
      const [record] = decodeBatchSet(buildBatchSet(0, [{ baseOffset: 0, batch: builder.finish() }]), 'events', 0);
      t.same(
        record!.headers.map((h) => h.key),
        names.map((name) => text.decode(utf8.encode(name))),
      );
    }),
    { numRuns: 200 },
  );
});

t.test('a dense batch counts records from an offset without decoding', async (t) => {
  const builder = new RecordBatchBuilder();
  for (let i = 0; i < 10; i++) builder.add(i, null, Buffer.from(String(i)));
  const batch = builder.finish();
  t.same(batchInfo(batch), { count: 10, lastOffsetDelta: 9, dense: true });
  t.equal(countFrom(batch, 50, 53), 7);
  t.equal(countFrom(batch, 50, 40), 10);
  t.equal(countFrom(batch, 50, 70), 0);
});

t.test('an empty batch set decodes to no records; foreign bytes are refused', async (t) => {
  t.same(decodeBatchSet(encodeBatchSet([]), 'x', 0), []);
  t.same(batchesOf(new ArrayBuffer(0)).batches, []);
  t.throws(() => batchInfo(new Uint8Array([1, 2, 3])), RecordBatchFormatError);
  t.throws(() => batchesOf(new Uint8Array(20).fill(7)), RecordBatchFormatError);
});

t.test('a record added with a header block and a latin1 key is the record add writes from the same fields', async (t) => {
  const latin1Key = fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('latin1'));
  const record = fc.record({ key: latin1Key, value: bytes, timestamp: fc.maxSafeNat() });
  const headers = fc.array(fc.record({ key: fc.string({ maxLength: 20 }), value: bytes }), { maxLength: 3 });
  fc.assert(
    fc.property(fc.array(record, { maxLength: 20 }), headers, (records, headerList) => {
      const block = encodeHeaderBlock(headerList);
      let size = 12;
      for (const r of records) size += recordBytesWithHeaderBlock(r.key.length, r.value, block);
      const withBlock = new RecordBatchBuilder(size);
      const plainBuilder = new RecordBatchBuilder();
      for (const r of records) {
        withBlock.addWithHeaderBlock(r.timestamp, r.key, r.value, block);
        plainBuilder.add(r.timestamp, Buffer.from(r.key, 'latin1'), r.value, headerList);
      }
      t.equal(withBlock.byteLength, size, 'sized exactly');
      t.same([...withBlock.finish()], [...plainBuilder.finish()]);
    }),
  );
});
