/**
 * Pipelined checkpoints: a transaction that continues a prepared, not yet flushed one
 * must read exactly what it would read after that flush.
 */
import t from 'tap';
import { encodePrefix, joinPrefixedKey, encodeUserKey } from '../../shared/codecs/index.js';
import { continueBeforeFlush, openPartition } from './fixtures/partition-helpers.js';

const prefix = encodePrefix('user');
const stored = (key: string) => joinPrefixedKey(prefix, encodeUserKey(key));

t.test('keyed reads see the predecessor writes before its flush', async (t) => {
  const partition = await openPartition(t, { hasChangelog: true });
  const setup = partition.begin();
  setup.set('kept', 'old', prefix);
  setup.set('deleted', 'old', prefix);
  setup.set('overwritten', 'old', prefix);
  await setup.flush(0);

  const tx1 = partition.begin();
  await tx1.preload([stored('deleted'), stored('overwritten')]);
  tx1.delete('deleted', prefix);
  tx1.set('overwritten', 'new', prefix);
  tx1.set('created', 'new', prefix);
  await tx1.prepare({ events: 1 });

  const { next: tx2, flushed: tx1Flushed, release } = continueBeforeFlush(partition, tx1, 1);
  await tx2.preload(['kept', 'deleted', 'overwritten', 'created'].map(stored));
  t.equal(tx2.get('kept', prefix), 'old', 'untouched key comes from the database');
  t.equal(tx2.get('deleted', prefix, 'default'), 'default', 'deleted by the predecessor');
  t.equal(tx2.get('overwritten', prefix), 'new');
  t.equal(tx2.get('created', prefix), 'new');
  tx2.set('created', 'newer', prefix);

  release();
  await tx1Flushed;
  await tx2.prepare({ events: 2 });
  await tx2.flush(2);
  const after = partition.begin();
  t.equal(await after.getAsync('created', prefix), 'newer');
  t.equal(await after.getAsync('deleted', prefix, 'none'), 'none');
  t.equal(partition.getChangelogOffset(), 2);
});

t.test('range reads wait for the predecessor flush', async (t) => {
  const partition = await openPartition(t, { hasChangelog: true });
  const tx1 = partition.begin();
  tx1.set('a', 1, prefix);
  await tx1.prepare(null);
  const { next: tx2, release } = continueBeforeFlush(partition, tx1, 0);
  tx2.set('b', 2, prefix);
  let done = false;
  const range = tx2.getRange({ prefix, lower: prefix, upper: joinPrefixedKey(prefix, new Uint8Array([0xff])) }).then((r) => {
    done = true;
    return r;
  });
  await new Promise((r) => setTimeout(r, 50));
  t.notOk(done, 'still waiting for the flush');
  release();
  const entries = await range;
  t.same(entries.map(([k]) => Buffer.from(k).toString('latin1')), ['"user"|"a"', '"user"|"b"']);
});

t.test('the global counter carries over', async (t) => {
  const partition = await openPartition(t, { hasChangelog: true });
  const tx1 = partition.begin();
  t.equal(tx1.nextGlobalCounter(), 0n);
  t.equal(tx1.nextGlobalCounter(), 1n);
  await tx1.prepare(null);
  const tx2 = partition.begin();
  tx2.continueFrom(tx1, Promise.resolve());
  t.equal(tx2.nextGlobalCounter(), 2n);
});

t.test('the predecessor writes answer keyed reads without a preload, before and after its flush; the own writes win', async (t) => {
  const partition = await openPartition(t, { hasChangelog: true });
  const setup = partition.begin();
  setup.set('gone', 'stored', prefix);
  await setup.flush(0);

  const tx1 = partition.begin();
  tx1.set('count', 41, prefix);
  tx1.set('text', 'kept', prefix);
  await tx1.preload([stored('gone')]);
  tx1.delete('gone', prefix);
  await tx1.prepare({ events: 1 });

  const { next: tx2, flushed: tx1Flushed, release } = continueBeforeFlush(partition, tx1, 1);
  t.equal(tx2.get('count', prefix), 41, 'a scalar the predecessor wrote, read synchronously with no preload');
  t.equal(tx2.get('gone', prefix, 'default'), 'default', 'a key the predecessor deleted reads as missing');
  tx2.set('count', (tx2.get('count', prefix) as number) + 1, prefix);

  release();
  await tx1Flushed;
  t.equal(tx2.get('text', prefix), 'kept', 'still answered after the predecessor flushed');
  t.equal(tx2.get('count', prefix), 42, 'the own write wins over the predecessor');
  t.equal(await tx2.getAsync('gone', prefix, 'none'), 'none', 'an async read agrees');
  await tx2.preload([stored('count'), stored('text'), stored('other')]);
  t.equal(tx2.get('other', prefix, 'absent'), 'absent', 'a key neither wrote comes from the database');
  await tx2.prepare({ events: 2 });
  await tx2.flush(2);
  const after = partition.begin();
  await after.preload([stored('count'), stored('text'), stored('gone')]);
  t.same([after.get('count', prefix), after.get('text', prefix), after.get('gone', prefix, 'none')], [42, 'kept', 'none']);
});
