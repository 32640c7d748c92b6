/**
 * A prepared transaction's changelog (workers/state/transaction-changelog.ts): the batch
 * `encode` writes straight from the cache holds exactly the records `records()` lists, in
 * the same order, with the same headers, whatever the transaction wrote.
 */
import t from 'tap';
import fc from 'fast-check';
import { buildBatchSet, decodeBatchSet } from '../../shared/protocol/record-batch.js';
import { TransactionChangelog } from '../../workers/state/index.js';
import { bytes, openPartition } from './fixtures/partition-helpers.js';

t.setTimeout(120_000);

const value = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.record({ n: fc.integer(), s: fc.string({ maxLength: 6 }) }),
);
const operation = fc.record({
  kind: fc.constantFrom('set', 'set', 'setBytes', 'expiring', 'delete'),
  key: fc.string({ unit: 'binary', maxLength: 8 }),
  prefix: fc.constantFrom('', 'p1', 'prefix-\u00e9'),
  cf: fc.constantFrom('default', 'other'),
  value,
});

const plain = (records: readonly { key: Uint8Array | null; value: Uint8Array | null; headers: readonly { key: string; value: Uint8Array | null }[] }[]) =>
  records.map((r) => ({
    key: r.key === null ? null : Buffer.from(r.key).toString('hex'),
    value: r.value === null ? null : Buffer.from(r.value).toString('hex'),
    headers: r.headers.map((h) => [h.key, h.value === null ? null : Buffer.from(h.value).toString('hex')]),
  }));

t.test('encode writes the records records() lists: keys, values, tombstones, headers, order, timestamp', async (t) => {
  const partition = await openPartition(t, { hasChangelog: true });
  let offset = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(operation, { maxLength: 30 }), fc.maxSafeNat(), async (operations, timestamp) => {
      const tx = partition.begin();
      for (const op of operations) {
        const prefix = bytes(op.prefix);
        if (op.kind === 'delete') tx.delete(op.key, prefix, op.cf);
        else if (op.kind === 'setBytes') tx.setBytes(op.key, Buffer.from(JSON.stringify(op.value) ?? 'null'), prefix, op.cf);
        else if (op.kind === 'expiring' && op.cf === 'default') tx.setBytesExpiring(op.key, bytes(JSON.stringify(op.value) ?? 'null'), prefix, 1_000 + offset);
        else tx.set(op.key, op.value, prefix, op.cf);
      }
      const changelog = await tx.prepare({ source: ++offset });
      const records = changelog.records();
      t.equal(changelog.length, records.length);
      const decoded = decodeBatchSet(buildBatchSet(0, [{ baseOffset: 0, batch: new Uint8Array(changelog.encode(timestamp)) }]), 'changelog', 0);
      t.same(plain(decoded), plain(records));
      t.ok(decoded.every((r, i) => r.offset === i && r.timestamp === timestamp), 'dense offsets, one timestamp');
      await tx.flush(offset);
    }),
    { numRuns: 60 },
  );
});

t.test('a transaction without a changelog, or without changes, has the empty changelog', async (t) => {
  const plainPartition = await openPartition(t, {}, 'plain');
  const tx = plainPartition.begin();
  tx.set('k', 1, bytes('p'));
  t.equal(await tx.prepare({ source: 1 }), TransactionChangelog.EMPTY);
  const changelogged = await openPartition(t, { hasChangelog: true }, 'changelogged');
  const idle = changelogged.begin();
  const empty = await idle.prepare(null);
  t.equal(empty.length, 0);
  t.same(empty.records(), []);
  t.same(decodeBatchSet(buildBatchSet(0, [{ baseOffset: 0, batch: new Uint8Array(empty.encode(5)) }]), 't', 0), []);
});

t.test('encodeBatches splits the changelog into batches of at most maxRecords, together the records() in order', async (t) => {
  const partition = await openPartition(t, { hasChangelog: true }, 'split');
  const tx = partition.begin();
  for (let i = 0; i < 2_500; i++) tx.set(`k${i}`, i, bytes('p'));
  for (let i = 0; i < 30; i++) tx.delete(`gone${i}`, bytes('p'), 'other');
  const changelog = await tx.prepare({ source: 7 });
  const batches = [...changelog.encodeBatches(11)];
  t.same(batches.map((b) => b.count), [1_024, 1_024, 482], 'CHANGELOG_BATCH_RECORDS each, the rest last (tombstones included)');
  let baseOffset = 0;
  const decoded = [];
  for (const { buffer, count } of batches) {
    decoded.push(...decodeBatchSet(buildBatchSet(baseOffset, [{ baseOffset, batch: new Uint8Array(buffer) }]), 'changelog', 0));
    baseOffset += count;
  }
  t.same(plain(decoded), plain(changelog.records()));
  t.ok(decoded.every((r, i) => r.offset === i && r.timestamp === 11), 'consecutive offsets across batches, one timestamp');
  t.same(
    [...changelog.encodeBatches(11, 1_000)].map((b) => b.count),
    [1_000, 1_000, 530],
    'a smaller bound',
  );
  await tx.flush(7);
});
