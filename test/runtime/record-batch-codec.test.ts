import t from 'tap';
import fc from 'fast-check';
import { decodeRecordBatch, encodeRecordBatch } from '../../shared/protocol/record-batch-codec.js';
import type { LogRecord } from '../../shared/log/log-backend.js';

const bytes = fc.option(fc.uint8Array({ maxLength: 64 }), { nil: null });
const record: fc.Arbitrary<LogRecord> = fc.record({
  topic: fc.constantFrom('events', 'counts', 'changelog__app--events--counts', 'tópico'),
  partition: fc.integer({ min: 0, max: 0xffffffff }),
  offset: fc.maxSafeNat(),
  key: bytes,
  value: bytes,
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 20 }), value: bytes }), { maxLength: 3 }),
  timestamp: fc.maxSafeNat(),
});

t.test('a record batch round-trips byte for byte', async (t) => {
  fc.assert(
    fc.property(fc.array(record, { maxLength: 50 }), (records) => {
      const decoded = decodeRecordBatch(encodeRecordBatch(records));
      const plain = (r: LogRecord) => ({
        ...r,
        key: r.key === null ? null : [...r.key],
        value: r.value === null ? null : [...r.value],
        headers: r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : [...h.value] })),
      });
      t.same(decoded.map(plain), records.map(plain));
    }),
    { numRuns: 200 },
  );
});

t.test('an empty batch decodes to no records', async (t) => {
  t.same(decodeRecordBatch(encodeRecordBatch([])), []);
});
