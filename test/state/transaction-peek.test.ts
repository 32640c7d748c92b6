/**
 * PartitionTransaction.peek: `get` answered from the transaction's caches only, with
 * NOT_CACHED (never StateKeyNotLoadedError) when the database would have to be read.
 */
import t from 'tap';
import { joinPrefixedKey, encodeUserKey } from '../../shared/codecs/index.js';
import { StateTransactionError } from '../../shared/errors/state-errors.js';
import { NOT_CACHED } from '../../workers/state/index.js';
import { bytes, openPartition } from './fixtures/partition-helpers.js';

t.setTimeout(120_000);

const PREFIX = bytes('"k"');

t.test('peek answers what get would from written, read and preloaded keys, else NOT_CACHED', async (t) => {
  const partition = await openPartition(t, { hasChangelog: true });
  const setup = partition.begin();
  setup.set('stored', 7, PREFIX);
  setup.set('other', 8, PREFIX);
  await setup.prepare(null);
  await setup.flush(0);

  const tx = partition.begin();
  t.equal(tx.peek('stored', PREFIX), NOT_CACHED, 'stored but not read in this transaction');
  t.equal(tx.peek('absent', PREFIX, 'dflt'), NOT_CACHED, 'absent and not read: unknown without the database');
  t.equal(await tx.getAsync('stored', PREFIX), 7);
  t.equal(tx.peek('stored', PREFIX), 7, 'read before: cached');
  t.equal(await tx.getAsync('absent', PREFIX, 'dflt'), 'dflt');
  t.equal(tx.peek('absent', PREFIX, 'dflt'), 'dflt', 'read as absent before: the default');
  await tx.preload([joinPrefixedKey(PREFIX, encodeUserKey('other'))]);
  t.equal(tx.peek('other', PREFIX), 8, 'preloaded');
  tx.set('new', { a: 1 }, PREFIX);
  t.same(tx.peek('new', PREFIX), { a: 1 }, 'written here');
  tx.delete('stored', PREFIX);
  t.equal(tx.peek('stored', PREFIX, 'gone'), 'gone', 'deleted here: the default');
  for (const key of ['new', 'stored', 'other', 'absent']) t.same(tx.peek(key, PREFIX, 'dflt'), tx.get(key, PREFIX, 'dflt'), `${key}: as get`);
  await tx.prepare(null);
  t.throws(() => tx.peek('new', PREFIX), StateTransactionError, 'only while STARTED, like get');
});
