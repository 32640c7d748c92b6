import t from 'tap';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { chunkBytes, closeIterator, RELEASE_AT_BYTES, type ReleasableIterator } from '../../shared/leveldb/iterator-close.js';

/** An iterator that records what is asked of it. */
function recordingIterator(failing: { seek?: boolean; close?: boolean } = {}): ReleasableIterator<string> & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    seek(target: string) {
      calls.push(`seek ${target}`);
      if (failing.seek === true) throw new Error('seek failed');
    },
    async nextv(size: number) {
      calls.push(`nextv ${size}`);
      return [];
    },
    async close() {
      calls.push('close');
      if (failing.close === true) throw new Error('close failed');
    },
  };
}

t.test('a last chunk below the threshold is left to the garbage collector: close only', async (t) => {
  const iterator = recordingIterator();
  await closeIterator(iterator, RELEASE_AT_BYTES - 1, 'z');
  t.same(iterator.calls, ['close']);
});

t.test('a large last chunk is released by an empty read outside the range, then closed', async (t) => {
  const iterator = recordingIterator();
  await closeIterator(iterator, RELEASE_AT_BYTES, 'z');
  t.same(iterator.calls, ['seek z', 'nextv 1', 'close']);
});

t.test('a failed release still closes; a failed close is the caller\'s error', async (t) => {
  const seekFails = recordingIterator({ seek: true });
  await closeIterator(seekFails, RELEASE_AT_BYTES, 'z');
  t.same(seekFails.calls, ['seek z', 'close']);
  await t.rejects(closeIterator(recordingIterator({ close: true }), RELEASE_AT_BYTES, 'z'), { message: 'close failed' });
});

t.test('chunkBytes counts keys and values', async (t) => {
  t.equal(chunkBytes([]), 0);
  t.equal(chunkBytes([[new Uint8Array(3), new Uint8Array(10)], [new Uint8Array(1), new Uint8Array(0)]]), 14);
});

t.test('on LevelDB: entries read before the release keep their bytes, and the iterator is closed after', async (t) => {
  const db = new ClassicLevel<Buffer, Buffer>(join(t.testdir(), 'db'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  t.teardown(() => db.close());
  const value = (i: number) => Buffer.alloc(4096, i);
  const key = (i: number) => Buffer.from(`k${String(i).padStart(4, '0')}`);
  await db.batch(Array.from({ length: 100 }, (_, i) => ({ type: 'put' as const, key: key(i), value: value(i) })));

  for (const reverse of [false, true]) {
    // A read that stops inside the range (the log's reads stop at maxRecords) and one that runs to its end.
    for (const take of [30, 1000]) {
      const upper = key(100);
      const iterator = db.iterator({ gte: key(0), lt: upper, reverse, highWaterMarkBytes: 4 * 1024 * 1024 });
      const entries = await iterator.nextv(take);
      const bytes = chunkBytes(entries);
      if (take === 1000) t.same(await iterator.nextv(10), [], 'the range was read to its end');
      t.ok(bytes >= RELEASE_AT_BYTES);
      await closeIterator(iterator, bytes, reverse ? Buffer.alloc(0) : upper);
      const expected = Math.min(take, 100);
      t.equal(entries.length, expected);
      const first = reverse ? 99 : 0;
      entries.forEach(([k, v], n) => {
        const i = reverse ? first - n : first + n;
        if (!k.equals(key(i)) || !v.equals(value(i))) t.fail(`entry ${n} changed by the release`);
      });
      await t.rejects(iterator.nextv(1), { code: 'LEVEL_ITERATOR_NOT_OPEN' }, `closed (reverse ${reverse}, take ${take})`);
    }
  }
});
