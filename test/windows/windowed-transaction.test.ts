import t from 'tap';
import { encodeIntPair, encodeJson } from '../../shared/codecs/index.js';
import {
  COLUMN_FAMILY_HEADER,
  GLOBAL_COUNTER_CF,
  LATEST_TIMESTAMPS_CF,
  StorePartition,
  VALUES_CF,
  WindowedTransaction,
} from '../../workers/state/index.js';
import { InvalidWindowDurationError } from '../../shared/errors/window-errors.js';
import { bytes, drain, inWindowTx, openWindowPartition } from './fixtures/window-helpers.js';
import { continueBeforeFlush } from '../state/fixtures/partition-helpers.js';

t.setTimeout(120_000);
const P = bytes('"key"');

const summary = (ws: { start: number; end: number; value: unknown; collected: unknown[] }[]): unknown[] =>
  ws.map((w) => [[w.start, w.end], w.value, w.collected]);

t.test('68. update then get a window, same and next transaction, any JSON value', async (t) => {
  for (const value of [1, [3, 1], [3, null]]) {
    const partition = await openWindowPartition(t);
    await inWindowTx(partition, async (w) => {
      await w.updateWindow(0, 10, value, 2, P);
      t.same(await w.getWindow(0, 10, P), value);
    });
    t.same(await inWindowTx(partition, (w) => w.getWindow(0, 10, P)), value);
    await partition.close();
  }
});

t.test('69. missing window reads undefined; deleted window reads undefined', async (t) => {
  const partition = await openWindowPartition(t);
  await inWindowTx(partition, async (w) => {
    t.equal(await w.getWindow(0, 10, P), undefined);
    await w.updateWindow(0, 10, 5, 1, P);
  });
  await inWindowTx(partition, async (w) => w.deleteWindow(0, 10, P));
  t.equal(await inWindowTx(partition, (w) => w.getWindow(0, 10, P)), undefined);
});

t.test('70. invalid window durations are rejected', async (t) => {
  const partition = await openWindowPartition(t);
  await inWindowTx(partition, async (w) => {
    for (const [s, e] of [
      [0, 0],
      [1, 0],
    ] as const) {
      await t.rejects(w.getWindow(s, e, P), InvalidWindowDurationError);
      await t.rejects(w.updateWindow(s, e, 1, 1, P), InvalidWindowDurationError);
      t.throws(() => w.deleteWindow(s, e, P), InvalidWindowDurationError);
    }
    await t.rejects(w.updateWindow(0, 10, 1, -1, P), /negative/);
  });
});

for (const cached of [false, true]) {
  for (const deleteExpired of [true, false]) {
    t.test(`71. expire windows (${cached ? 'cache only' : 'persisted'}, delete=${deleteExpired})`, async (t) => {
      const partition = await openWindowPartition(t);
      const write = async (w: Parameters<Parameters<typeof inWindowTx>[1]>[0]): Promise<void> => {
        await w.updateWindow(0, 10, 1, 0, P);
        await w.updateWindow(10, 20, 2, 10, P);
      };
      await inWindowTx(partition, async (w) => {
        if (cached) await write(w);
      });
      if (!cached) await inWindowTx(partition, write);
      await inWindowTx(partition, async (w) => {
        await w.updateWindow(20, 30, 3, 20, P);
        const expired = await drain(w.expireWindows(20 - 10, P, { delete: deleteExpired }));
        t.same(summary(expired), [
          [[0, 10], 1, []],
          [[10, 20], 2, []],
        ]);
        t.same(await drain(w.expireWindows(20 - 10, P, { delete: deleteExpired })), [], 'second call yields nothing');
      });
      await inWindowTx(partition, async (w) => {
        t.same(await w.getWindow(0, 10, P), deleteExpired ? undefined : 1);
        t.same(await w.getWindow(10, 20, P), deleteExpired ? undefined : 2);
        t.same(await w.getWindow(20, 30, P), 3);
      });
    });
  }
}

t.test('expiry is lazy: nothing happens until iteration, deletions after completion', async (t) => {
  const partition = await openWindowPartition(t);
  await inWindowTx(partition, async (w) => {
    await w.updateWindow(0, 10, 1, 0, P);
    const gen = w.expireWindows(5, P);
    t.equal(await w.getLatestExpired(P), 0, 'index untouched before iteration');
    const first = await gen.next();
    t.same((first.value as { start: number }).start, 0);
    t.same(await w.getWindow(0, 10, P), 1, 'not deleted mid-iteration');
    await gen.next();
    t.equal(await w.getWindow(0, 10, P), undefined, 'deleted after completion');
  });
});

t.test('72. nothing expires when max start is below every window', async (t) => {
  const partition = await openWindowPartition(t);
  await inWindowTx(partition, (w) => w.updateWindow(0, 10, 1, 0, P));
  await inWindowTx(partition, async (w) => {
    await w.updateWindow(3, 13, 1, 3, P);
    t.same(await drain(w.expireWindows(3 - 10, P)), []);
  });
});

t.test('73. grace delays expiry', async (t) => {
  const partition = await openWindowPartition(t);
  await inWindowTx(partition, (w) => w.updateWindow(0, 10, 1, 0, P));
  await inWindowTx(partition, async (w) => {
    await w.updateWindow(13, 23, 1, 13, P);
    t.same(await drain(w.expireWindows(13 - 10 - 5, P)), []);
    await w.updateWindow(15, 25, 1, 15, P);
    t.same(summary(await drain(w.expireWindows(15 - 10 - 5, P))), [[[0, 10], 1, []]]);
  });
});

t.test('74. latest timestamp persists and never goes backwards', async (t) => {
  const partition = await openWindowPartition(t);
  await inWindowTx(partition, (w) => w.updateWindow(0, 10, 1, 123, P));
  t.equal(await inWindowTx(partition, (w) => w.getLatestTimestamp(P)), 123);
  const path = partition.path;
  await partition.close();
  const reopened = await StorePartition.open(path);
  t.teardown(() => reopened.close());
  t.equal(await inWindowTx(reopened, (w) => w.getLatestTimestamp(P)), 123, 'after revoke and re-assign');
  await inWindowTx(reopened, async (w) => {
    await w.updateWindow(0, 10, 1, 9, P);
    await w.updateWindow(0, 10, 1, 8, P);
  });
  t.equal(await inWindowTx(reopened, (w) => w.getLatestTimestamp(P)), 123);
  const fresh = await openWindowPartition(t, false, 'fresh');
  await inWindowTx(fresh, async (w) => {
    await w.updateWindow(0, 10, 1, 9, P);
    await w.updateWindow(0, 10, 1, 8, P);
  });
  t.equal(await inWindowTx(fresh, (w) => w.getLatestTimestamp(P)), 9);
});

t.test('75/76. changelog records of update_window and delete_window', async (t) => {
  const partition = await openWindowPartition(t, true);
  let tx = partition.begin();
  await new WindowedTransaction(tx).updateWindow(0, 10, 1, 2, P);
  let records = (await tx.prepare({ events: 1 })).records();
  t.equal(records.length, 2);
  const cfs = records.map((r) => Buffer.from(r.headers.find((h) => h.key === COLUMN_FAMILY_HEADER)!.value!).toString()).sort();
  t.same(cfs, [LATEST_TIMESTAMPS_CF, 'default'].sort());
  const windowRecord = records.find((r) => Buffer.from(r.headers[0]!.value!).toString() === 'default')!;
  t.same(Buffer.from(windowRecord.key!), Buffer.concat([P, bytes('|'), encodeIntPair(0, 10)]));
  t.same(Buffer.from(windowRecord.value!), Buffer.from(encodeJson(1)));
  await tx.flush(0);
  tx = partition.begin();
  new WindowedTransaction(tx).deleteWindow(0, 10, P);
  records = (await tx.prepare({ events: 2 })).records();
  t.equal(records.length, 1);
  t.equal(records[0]!.value, null, 'a tombstone');
});

for (const endInclusive of [false, true]) {
  t.test(`77. collections read at expiry (endInclusive=${endInclusive})`, async (t) => {
    const partition = await openWindowPartition(t);
    await inWindowTx(partition, async (w) => {
      await w.updateWindow(0, 10, null, 0, P);
      await w.updateWindow(10, 20, [777, null], 10, P);
      w.addToCollection('a', 0, P);
      w.addToCollection('b', 10, P);
      w.addToCollection('c', 20, P);
    });
    await inWindowTx(partition, async (w) => {
      await w.updateWindow(20, 30, null, 20, P);
      const expired = await drain(w.expireWindows(10, P, { collect: true, endInclusive }));
      t.same(
        expired.map((e) => e.collected),
        endInclusive ? [['a', 'b'], ['b', 'c']] : [['a'], ['b']],
      );
      t.same(await w.getFromCollection(0, 100, P), endInclusive ? ['b', 'c'] : ['b', 'c'], 'values below the newest expired start deleted');
    });
  });
}

t.test('78. expiry sees the cached value over the stored one', async (t) => {
  const partition = await openWindowPartition(t);
  await inWindowTx(partition, (w) => w.updateWindow(0, 10, 1, 0, P));
  await inWindowTx(partition, async (w) => {
    await w.updateWindow(0, 10, 3, 0, P);
    await w.updateWindow(10, 20, 1, 10, P);
    t.same(summary(await drain(w.expireWindows(0, P))), [[[0, 10], 3, []]]);
  });
});

t.test('79. get_windows: exclusive/inclusive bounds, DB/cache merge, deletes, order', async (t) => {
  const partition = await openWindowPartition(t);
  await inWindowTx(partition, async (w) => {
    await w.updateWindow(1, 11, 'db1', 1, P);
    await w.updateWindow(2, 12, 'db2', 2, P);
    await w.updateWindow(4, 14, 'db4', 4, P);
    await w.updateWindow(2, 12, 'other', 2, bytes('"kez"'));
  });
  await inWindowTx(partition, async (w) => {
    t.same((await w.getWindows(1, 2, P)).map((x) => [x.start, x.end, x.value]), [[2, 12, 'db2']], '(1, 2]');
    await w.updateWindow(3, 13, 'cache3', 3, P);
    await w.updateWindow(2, 12, 'cache2', 3, P);
    w.deleteWindow(4, 14, P);
    const all = await w.getWindows(0, 100, P);
    t.same(all.map((x) => [x.start, x.value]), [
      [1, 'db1'],
      [2, 'cache2'],
      [3, 'cache3'],
    ]);
    const back = await w.getWindows(0, 100, P, true);
    t.same(back.map((x) => x.start), [3, 2, 1], 'backwards');
  });
});

t.test('80. delete_windows deletes up to max start', async (t) => {
  const partition = await openWindowPartition(t);
  await inWindowTx(partition, async (w) => {
    for (const s of [1, 2, 3]) await w.updateWindow(s, s + 10, s, s, P);
  });
  await inWindowTx(partition, (w) => w.deleteWindows(2, false, P));
  await inWindowTx(partition, async (w) => {
    t.same((await w.getWindows(-1, 100, P)).map((x) => x.start), [3]);
  });
});

t.test('81. delete_windows with values deletes ids below max start', async (t) => {
  const partition = await openWindowPartition(t);
  await inWindowTx(partition, async (w) => {
    await w.updateWindow(2, 3, null, 2, P);
    w.addToCollection('a', 1, P);
    w.addToCollection('b', 2, P);
  });
  await inWindowTx(partition, (w) => w.deleteWindows(2, true, P));
  await inWindowTx(partition, async (w) => {
    t.same(await w.getWindows(-1, 100, P), []);
    t.same(await w.getFromCollection(0, 100, P), ['b']);
  });
});

t.test('82. add_to_collection keys (id, global counter)', async (t) => {
  const partition = await openWindowPartition(t);
  const values = [{ a: 1 }, 'two', [3]];
  await inWindowTx(partition, async (w) => {
    t.same([11, 22, 33].map((id, i) => w.addToCollection(values[i], id, P)), [0n, 1n, 2n]);
  });
  const items = await partition.getItems({ cf: VALUES_CF });
  t.same(
    items.map(([k, v]) => [Buffer.from(k), JSON.parse(Buffer.from(v).toString())]),
    [
      [Buffer.concat([P, bytes('|'), encodeIntPair(11, 0)]), values[0]],
      [Buffer.concat([P, bytes('|'), encodeIntPair(22, 1)]), values[1]],
      [Buffer.concat([P, bytes('|'), encodeIntPair(33, 2)]), values[2]],
    ],
  );
  t.ok((await partition.getItems({ cf: GLOBAL_COUNTER_CF })).length === 1, 'counter persisted');
});

t.test('decision: windows of an empty key are found by scans and expiry', async (t) => {
  const partition = await openWindowPartition(t);
  const EMPTY = new Uint8Array(0);
  await inWindowTx(partition, async (w) => {
    await w.updateWindow(0, 10, 1, 0, EMPTY);
    await w.updateWindow(10, 20, 2, 10, EMPTY);
    w.addToCollection('x', 0, EMPTY);
  });
  await inWindowTx(partition, async (w) => {
    t.same((await w.getWindows(-1, 100, EMPTY)).map((x) => x.value), [1, 2]);
    t.same(summary(await drain(w.expireWindows(5, EMPTY, { collect: true }))), [[[0, 10], 1, ['x']]]);
    t.same(await w.getWindows(-1, 100, EMPTY).then((ws) => ws.map((x) => x.start)), [10]);
  });
});

t.test('partition-wide scans continuing a prepared, unflushed transaction see its windows (they wait for its flush)', async (t) => {
  const partition = await openWindowPartition(t, true);
  const tx1 = partition.begin();
  const first = new WindowedTransaction(tx1);
  await first.updateWindow(0, 10, 1, 5, P);
  await first.prepare(null);
  const { next: tx2, release } = continueBeforeFlush(partition, tx1, 0);
  const second = new WindowedTransaction(tx2);
  const prefixes = second.windowPrefixes();
  const expired = drain(second.expireAllWindows(10, () => true));
  release();
  t.same((await prefixes).map((p) => Buffer.from(p).toString('latin1')), ['"key"'], 'the prefix written by the predecessor');
  t.same(summary(await expired), [[[0, 10], 1, []]], 'its window expires');
});

t.test('a held clock: later moves reach the changelog at prepare in the first move\'s place, and a savepoint rollback undoes only its own', async (t) => {
  const partition = await openWindowPartition(t, true);
  const tx = partition.begin();
  const w = new WindowedTransaction(tx);
  const other = bytes('"other"');
  await w.advanceLatestTimestamp(10, P); // first write: through the transaction, its changelog place
  await w.advanceLatestTimestamp(5, other);
  await w.advanceLatestTimestamp(20, P); // held until writeBack
  t.equal(await w.getLatestTimestamp(P), 20);

  // As PartitionCheckpoint.setSavepoints does: held values first, then the savepoint.
  w.writeBackHeld();
  tx.setSavepoint();
  await w.advanceLatestTimestamp(30, P);
  await w.advanceLatestTimestamp(40, other);
  t.equal(await w.getLatestTimestamp(P), 30, 'read inside the savepoint');
  tx.rollbackToSavepoint();
  t.equal(await w.getLatestTimestamp(P), 20, 'the rolled-back move is gone, the held one before it stays');
  t.equal(await w.getLatestTimestamp(other), 5);

  await w.advanceLatestTimestamp(25, P);
  await w.advanceLatestTimestamp(50, P);
  const clocks = (await w.prepare(null))
    .records()
    .filter((r) => r.headers.some((h) => h.key === COLUMN_FAMILY_HEADER && Buffer.from(h.value!).toString() === LATEST_TIMESTAMPS_CF))
    .map((r) => [Buffer.from(r.key).toString('latin1'), Buffer.from(r.value!).toString()]);
  t.same(clocks, [
    ['"key"|__latest_timestamp__', '50'],
    ['"other"|__latest_timestamp__', '5'],
  ]);
  await tx.flush(0);
});
