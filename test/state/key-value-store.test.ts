import t from 'tap';
import { join } from 'node:path';
import { access } from 'node:fs/promises';
import { PartitionNotAssignedError } from '../../shared/errors/state-errors.js';
import { KeyValueStore } from '../../workers/state/index.js';

t.setTimeout(120_000);

function makeStore(baseDir: string, hasChangelog = false, streamId: string | null = 'topic'): KeyValueStore {
  return new KeyValueStore({ name: 'default', streamId, baseDir, hasChangelog, options: { openMaxRetries: 0 } });
}

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

t.test('27. assign, revoke, re-assign; assign twice is fine; revoking an unassigned partition is a no-op', async (t) => {
  const store = makeStore(t.testdir());
  t.teardown(() => store.close());
  const first = await store.assignPartition(0);
  t.ok(store.partitions.has(0));
  t.equal(await store.assignPartition(0), first, 'idempotent: the open partition');
  await store.revokePartition(0);
  t.notOk(store.partitions.has(0));
  t.ok(first.closed, 'revoke closes');
  await store.revokePartition(0);
  await store.revokePartition(7);
  const again = await store.assignPartition(0);
  t.not(again, first);
  const [a, b] = await Promise.all([store.assignPartition(1), store.assignPartition(1)]);
  t.equal(a, b, 'concurrent assigns share one open');
  const assigning = store.assignPartition(2);
  await store.revokePartition(2);
  t.ok((await assigning).closed, 'a revoke during the open closes the partition once open');
  t.notOk(store.partitions.has(2));
});

t.test('28. a transaction for an unassigned or revoked partition raises PartitionNotAssignedError', async (t) => {
  const store = makeStore(t.testdir());
  t.teardown(() => store.close());
  t.throws(() => store.beginTransaction(0), { name: 'PartitionNotAssignedError', message: /partition 0 is not assigned/ });
  await store.assignPartition(0);
  t.ok(store.beginTransaction(0));
  await store.revokePartition(0);
  t.throws(() => store.beginTransaction(0), PartitionNotAssignedError);
});

t.test('29. store transactions persist; a store without changelog produces no records', async (t) => {
  const base = t.testdir();
  const store = makeStore(base);
  await store.assignPartition(0);
  const tx = store.beginTransaction(0);
  tx.asState('key').set('count', 1);
  t.same((await tx.prepare({ topic: 0 })).records(), [], 'no changelog');
  await tx.flush();
  await store.close();
  t.equal(store.partitions.size, 0, 'close revokes everything');
  const reopened = makeStore(base);
  t.teardown(() => reopened.close());
  await reopened.assignPartition(0);
  t.equal(await reopened.beginTransaction(0).asState('key').getAsync('count'), 1);
  const withChangelog = makeStore(join(base, 'with-changelog'), true);
  t.teardown(() => withChangelog.close());
  await withChangelog.assignPartition(0);
  const tx2 = withChangelog.beginTransaction(0);
  tx2.asState('key').set('count', 1);
  t.equal((await tx2.prepare({ topic: 0 })).length, 1, 'with changelog: records');
});

t.test('directory layout and destroyPartition (docs/semantics.md §1.4)', async (t) => {
  const base = t.testdir();
  const store = makeStore(base);
  t.teardown(() => store.close());
  t.equal(store.partitionPath(3), join(base, 'default', 'topic', '3'));
  t.equal(makeStore(base, false, null).partitionPath(3), join(base, 'default', '3'), 'no stream id');
  await store.assignPartition(3);
  t.ok(await exists(join(base, 'default', 'topic', '3', 'CURRENT')));
  await store.destroyPartition(3);
  t.notOk(store.partitions.has(3));
  t.notOk(await exists(join(base, 'default', 'topic', '3')));
  await store.destroyPartition(4);
  t.pass('destroying a never-opened partition is fine');
});
