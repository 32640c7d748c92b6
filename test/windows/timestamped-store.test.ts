import t from 'tap';
import { encodeIntPair } from '../../shared/codecs/index.js';
import type { StorePartition } from '../../workers/state/index.js';
import { TimestampedTransaction, type TimestampedStoreOptions } from '../../workers/state/timestamped-transaction.js';
import { openWindowPartition } from './fixtures/window-helpers.js';

t.setTimeout(120_000);
const WEEK = 7 * 24 * 3600 * 1000;
const KEY = Buffer.from('key');

async function inTx<T>(partition: StorePartition, options: Partial<TimestampedStoreOptions>, body: (s: TimestampedTransaction) => Promise<T>): Promise<T> {
  const store = new TimestampedTransaction(partition.begin(), { graceMs: WEEK, keepDuplicates: false, ...options });
  const result = await body(store);
  await store.prepare(null);
  await store.transaction.flush();
  return result;
}

t.test('60. latest at or before a timestamp, same and later transaction', async (t) => {
  const partition = await openWindowPartition(t);
  await inTx(partition, {}, async (s) => {
    await s.setForTimestamp(10, 'value', KEY);
    t.equal(await s.getLatest(10, KEY), 'value');
    t.equal(await s.getLatest(11, KEY), 'value');
    t.equal(await s.getLatest(9, KEY), undefined);
  });
  await inTx(partition, {}, async (s) => {
    t.equal(await s.getLatest(10, KEY), 'value');
    t.equal(await s.getLatest(11, KEY), 'value');
    t.equal(await s.getLatest(9, KEY), undefined);
  });
});

t.test('61. stored and cached values: the later timestamp wins', async (t) => {
  const partition = await openWindowPartition(t);
  await inTx(partition, {}, (s) => s.setForTimestamp(3, 'stored', KEY));
  await inTx(partition, {}, async (s) => {
    await s.setForTimestamp(2, 'cached', KEY);
    t.equal(await s.getLatest(5, KEY), 'stored');
  });
  const other = await openWindowPartition(t, false, 'other');
  await inTx(other, {}, (s) => s.setForTimestamp(2, 'stored', KEY));
  await inTx(other, {}, async (s) => {
    await s.setForTimestamp(3, 'cached', KEY);
    t.equal(await s.getLatest(5, KEY), 'cached');
  });
});

t.test('62. a string prefix equals its JSON bytes', async (t) => {
  const partition = await openWindowPartition(t);
  await inTx(partition, {}, async (s) => {
    await s.setForTimestamp(1, 'a', 'key');
    t.equal(await s.getLatest(1, Buffer.from('"key"')), 'a');
    await s.setForTimestamp(2, 'b', Buffer.from('"key"'));
    t.equal(await s.getLatest(2, 'key'), 'b');
  });
});

t.test('63. retention by grace hides and deletes older values', async (t) => {
  const partition = await openWindowPartition(t);
  await inTx(partition, { graceMs: 5 }, async (s) => {
    await s.setForTimestamp(10, 'v10', KEY);
    t.equal(await s.getLatest(10, KEY), 'v10');
    await s.setForTimestamp(5, 'v5', KEY);
    await s.setForTimestamp(4, 'v4', KEY);
  });
  await inTx(partition, { graceMs: 5 }, async (s) => {
    t.equal(await s.getLatest(5, KEY), 'v5');
    t.equal(await s.getLatest(4, KEY), undefined);
    t.same(await s.getInterval(0, 100, KEY), ['v5', 'v10'], 'v4 deleted at prepare');
  });
});

t.test('64. grace 2: the watermark applies within the transaction and after', async (t) => {
  const partition = await openWindowPartition(t);
  await inTx(partition, { graceMs: 2 }, async (s) => {
    await s.setForTimestamp(2, 'v2', KEY);
    await s.setForTimestamp(5, 'v5', KEY);
    t.equal(await s.getLatest(2, KEY), undefined);
    t.equal(await s.getLatest(5, KEY), 'v5');
  });
  await inTx(partition, { graceMs: 2 }, async (s) => {
    t.equal(await s.getLatest(2, KEY), undefined);
    t.equal(await s.getLatest(5, KEY), 'v5');
  });
});

t.test('65. expired entries are deleted; reads do not expire', async (t) => {
  const partition = await openWindowPartition(t);
  await inTx(partition, { graceMs: 10 }, async (s) => {
    for (const k of ['key1', 'key2']) {
      await s.setForTimestamp(1, `${k}@1`, k);
      await s.setForTimestamp(12, `${k}@12`, k);
    }
  });
  await inTx(partition, { graceMs: 10 }, async (s) => {
    for (const k of ['key1', 'key2']) {
      const prefix = Buffer.from(JSON.stringify(k));
      t.equal(await s.transaction.getAsync(encodeIntPair(1, 0), prefix), undefined);
      t.equal(await s.transaction.getAsync(encodeIntPair(12, 0), prefix), `${k}@12`);
      t.equal(await s.getLatest(30, k), `${k}@12`);
    }
  });
});

t.test('66. retention touches only keys written in the transaction (and never a key sharing leading bytes)', async (t) => {
  const partition = await openWindowPartition(t);
  await inTx(partition, { graceMs: 5 }, (s) => s.setForTimestamp(3, 'key2@3', Buffer.from('key2')));
  await inTx(partition, { graceMs: 5 }, (s) => s.setForTimestamp(100, 'key@100', Buffer.from('key')));
  await inTx(partition, { graceMs: 5 }, async (s) => {
    t.equal(await s.getLatest(3, Buffer.from('key2')), 'key2@3');
    t.equal(await s.getLatest(100, Buffer.from('key')), 'key@100');
  });
});

for (const keepDuplicates of [false, true]) {
  t.test(`67. same timestamp twice (keepDuplicates=${keepDuplicates})`, async (t) => {
    const partition = await openWindowPartition(t);
    await inTx(partition, { keepDuplicates }, async (s) => {
      await s.setForTimestamp(1, '1', KEY);
      await s.setForTimestamp(1, '2', KEY);
    });
    await inTx(partition, { keepDuplicates }, async (s) => {
      t.equal(await s.getLatest(1, KEY), '2');
      t.equal(await s.transaction.getAsync(encodeIntPair(1, 0), KEY), keepDuplicates ? '1' : '2');
      t.equal(await s.transaction.getAsync(encodeIntPair(1, 1), KEY), keepDuplicates ? '2' : undefined);
    });
  });
}

t.test('retention deletions are tombstones on the changelog; the watermark is changelogged', async (t) => {
  const partition = await openWindowPartition(t, true);
  await inTx(partition, { graceMs: 5 }, (s) => s.setForTimestamp(1, 'old', KEY));
  const s = new TimestampedTransaction(partition.begin(), { graceMs: 5, keepDuplicates: false });
  await s.setForTimestamp(20, 'new', KEY);
  const records = (await s.prepare({ t: 1 })).records();
  const cfs = records.map((r) => [Buffer.from(r.headers[0]!.value!).toString(), r.value === null]);
  t.same(cfs.sort(), [
    ['__min-eligible-timestamps__', false],
    ['default', false],
    ['default', true],
  ]);
});
