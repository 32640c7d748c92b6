import t from 'tap';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { appendInteger, encodeBE64 } from '../../shared/codecs/index.js';
import {
  ColumnFamilyHeaderMissingError,
  InvalidChangelogRecordError,
  RecoveryCommittedOffsetMissingError,
  StoreCorruptedError,
  StoreLockedError,
  StoreOpenAbortedError,
  StorePartitionClosedError,
} from '../../shared/errors/state-errors.js';
import {
  BE64_MAX,
} from '../../shared/codecs/index.js';
import {
  COLUMN_FAMILY_HEADER,
  DEFAULT_CF,
  GLOBAL_COUNTER_CF,
  GLOBAL_COUNTER_KEY,
  METADATA_CF,
  PROCESSED_OFFSETS_HEADER,
  StorePartition,
  classicLevelFactory,
  describeOpenRetry,
  runTransaction,
  type OpenRetryEvent,
  type ReplayedChangelogRecord,
  type StateDatabase,
} from '../../workers/state/index.js';
import { SYNC_READ_MAX_KEYS } from '../../shared/leveldb/read-many.js';
import { bytes, openPartition, text } from './fixtures/partition-helpers.js';

t.setTimeout(120_000);

t.test('30. partition get after close() raises a clear error', async (t) => {
  const partition = await openPartition(t);
  await partition.close();
  await t.rejects(partition.get(bytes('key')), StorePartitionClosedError);
  t.throws(() => partition.begin(), StorePartitionClosedError);
  t.throws(() => partition.getChangelogOffset(), { message: /is closed/ });
});

t.test('getMany: the same values whether the keys are few (read synchronously) or many (one engine getMany)', async (t) => {
  const partition = await openPartition(t);
  const stored = Array.from({ length: SYNC_READ_MAX_KEYS * 2 }, (_, i) => bytes(`key-${i}`));
  await runTransaction(partition, (tx) => {
    stored.forEach((key, i) => tx.setBytes(key, bytes(`value-${i}`), new Uint8Array(0)));
  });
  const expect = (keys: Uint8Array[]) => keys.map((key) => (stored.some((s) => text(s) === text(key)) ? `value-${text(key)!.slice(4)}` : undefined));
  const few = [stored[3]!, bytes('absent'), stored[0]!];
  t.same((await partition.getMany(few)).map((v) => (v === undefined ? undefined : text(v))), expect(few), 'few keys');
  const many = [...stored, bytes('absent')];
  t.ok(many.length > SYNC_READ_MAX_KEYS);
  t.same((await partition.getMany(many)).map((v) => (v === undefined ? undefined : text(v))), expect(many), 'many keys');
  t.same(await partition.getMany([]), [], 'no keys');
});

t.test('31. recoverFromChangelogMessage on a fresh partition stores the value verbatim', async (t) => {
  const partition = await openPartition(t, { hasChangelog: true });
  await partition.recoverFromChangelogMessage(bytes('key'), bytes('value'), DEFAULT_CF, 1);
  t.equal(text(await partition.get(bytes('key'))), 'value');
  t.equal(partition.getChangelogOffset(), 1);
  t.equal(await partition.get(bytes('__ttl_enabled__'), METADATA_CF), undefined, 'TTL mode stays off');
});

t.test('32. (adapted) a sentinel-stamped value is stored verbatim; only the __ttl_stamped__ header switches TTL mode (test/state/ttl.test.ts)', async (t) => {
  const partition = await openPartition(t, { hasChangelog: true });
  const stamped = Buffer.concat([encodeBE64(BE64_MAX), bytes('value')]);
  await partition.recoverFromChangelogMessage(bytes('key'), stamped, DEFAULT_CF, 2, [{ key: '__ttl_stamped__', value: '1' }]);
  t.same(await partition.get(bytes('key')), stamped);
  t.equal(partition.getChangelogOffset(), 2);
  t.equal(partition.ttlEnabled, true, 'TTL mode on');
  t.same(await partition.get(bytes('__ttl_enabled__'), METADATA_CF), Uint8Array.of(1));
});

t.test('33. recovering into another column family leaves default untouched', async (t) => {
  const partition = await openPartition(t, { hasChangelog: true });
  await partition.recoverFromChangelogMessage(bytes('key'), bytes('value'), 'some_cf', 1);
  t.equal(await partition.get(bytes('key')), undefined);
  t.equal(text(await partition.get(bytes('key'), 'some_cf')), 'value');
  t.equal(partition.getChangelogOffset(), 1);
});

t.test('34. writeChangelogOffset on a fresh partition: null → 1', async (t) => {
  const partition = await openPartition(t);
  t.equal(partition.getChangelogOffset(), undefined);
  await partition.writeChangelogOffset(1);
  t.equal(partition.getChangelogOffset(), 1);
  const path = partition.path;
  await partition.close();
  const reopened = await StorePartition.open(path);
  t.teardown(() => reopened.close());
  t.equal(reopened.getChangelogOffset(), 1, 'persisted');
});

t.test('recovery: missing column family header, bad types, local-only families, tombstones', async (t) => {
  const partition = await openPartition(t, { hasChangelog: true });
  await t.rejects(partition.recoverFromChangelogMessage(bytes('k'), bytes('v'), undefined, 5), ColumnFamilyHeaderMissingError);
  await t.rejects(partition.recoverFromChangelogMessage(bytes('k'), bytes('v'), '', 5), ColumnFamilyHeaderMissingError);
  t.equal(partition.getChangelogOffset(), undefined, 'nothing written');
  await t.rejects(partition.recoverFromChangelogMessage('k', bytes('v'), DEFAULT_CF, 5), {
    constructor: InvalidChangelogRecordError,
    message: /Invalid changelog key type/,
  });
  await t.rejects(partition.recoverFromChangelogMessage(bytes('k'), 'v', DEFAULT_CF, 5), {
    constructor: InvalidChangelogRecordError,
    message: /Invalid changelog value type/,
  });
  await partition.recoverFromChangelogMessage(bytes('__changelog_offset__'), encodeBE64(999), METADATA_CF, 6);
  t.equal(partition.getChangelogOffset(), 6, 'local-only family ignored, offset advanced');
  await partition.recoverFromChangelogMessage(bytes('k'), bytes('v'), DEFAULT_CF, 7);
  await partition.recoverFromChangelogMessage(bytes('k'), null, DEFAULT_CF, 8);
  t.equal(await partition.get(bytes('k')), undefined, 'tombstone deletes');
  t.equal(partition.getChangelogOffset(), 8);
});

function replayed(offset: number, key: string, value: string | null, cf: string | null, processed: string | null): ReplayedChangelogRecord {
  const headers: { key: string; value: Uint8Array | string | null }[] = [];
  if (cf !== null) headers.push({ key: COLUMN_FAMILY_HEADER, value: bytes(cf) });
  if (processed !== null) headers.push({ key: PROCESSED_OFFSETS_HEADER, value: processed });
  return { key: bytes(key), value: value === null ? null : bytes(value), headers, offset };
}

t.test('recoverFromChangelog applies a chunk in one batch with the processed-offset skip rule', async (t) => {
  const partition = await openPartition(t, { hasChangelog: true });
  const result = await partition.recoverFromChangelog(
    [
      replayed(10, 'a', '1', DEFAULT_CF, '{"t1":0}'), // 0 < 1: apply
      replayed(11, 'b', '2', DEFAULT_CF, '{"t1":2}'), // 2 >= 1: skip
      replayed(12, 'c', '3', DEFAULT_CF, null), // no header: apply
      replayed(13, 'd', '4', DEFAULT_CF, 'null'), // null: apply
      replayed(14, 'a', null, 'other', '{"t1":0}'),
      replayed(15, 'e', '5', DEFAULT_CF, '{"t1":1}'), // equal: skip
    ],
    { t1: 1 },
  );
  t.same(result, { applied: 4, skipped: 2 });
  t.equal(text(await partition.get(bytes('a'))), '1');
  t.equal(await partition.get(bytes('b')), undefined);
  t.equal(text(await partition.get(bytes('c'))), '3');
  t.equal(text(await partition.get(bytes('d'))), '4');
  t.equal(await partition.get(bytes('e')), undefined);
  t.equal(partition.getChangelogOffset(), 15, 'last offset stored even when skipped');

  // Examples of docs/semantics.md §5.4.
  const apply = async (processed: string, committed: Record<string, number>): Promise<number> =>
    (await partition.recoverFromChangelog([replayed(20, 'x', 'y', DEFAULT_CF, processed)], committed)).applied;
  t.equal(await apply('{"t1":2}', { t1: 1 }), 0);
  t.equal(await apply('{"t1":2}', { t1: 2 }), 0);
  t.equal(await apply('{"t1":2,"t2":2}', { t1: 3, t2: 2 }), 0);
  t.equal(await apply('{"t":1}', { t: 2 }), 1);
  t.equal(await apply('{"t":1}', { t: -1001 }), 0, 'never committed: header-bearing records skipped');
  await t.rejects(partition.recoverFromChangelog([replayed(21, 'x', 'y', DEFAULT_CF, '{"t9":1}')], { t: 2 }), RecoveryCommittedOffsetMissingError);

  await t.rejects(
    partition.recoverFromChangelog([replayed(30, 'z', '1', DEFAULT_CF, null), replayed(31, 'z', '2', null, null)], {}),
    ColumnFamilyHeaderMissingError,
  );
  t.equal(await partition.get(bytes('z')), undefined, 'an invalid chunk writes nothing');
  t.equal(partition.getChangelogOffset(), 20);
});

t.test('44. a locked database opens once the other owner closes', async (t) => {
  const path = join(t.testdir(), 'db');
  const first = await StorePartition.open(path);
  const retries: OpenRetryEvent[] = [];
  const second = StorePartition.open(path, { openMaxRetries: 10, openRetryBackoffMs: 100, onOpenRetry: (e) => retries.push(e) });
  setTimeout(() => void first.close(), 350);
  const opened = await second;
  t.teardown(() => opened.close());
  t.ok(retries.length >= 1, 'retried while locked');
  t.equal(opened.closed, false);
});

/** A factory whose first `failures` databases fail to open with `error`. */
function failingFactory(failures: number, error: () => Error): { factory: (path: string) => StateDatabase; calls: () => number } {
  let calls = 0;
  return {
    factory: (path) => {
      calls++;
      const db = classicLevelFactory(path);
      if (calls <= failures) db.open = async () => Promise.reject(error());
      return db;
    },
    calls: () => calls,
  };
}

t.test('45. a generic I/O error on open is retried, then the open succeeds', async (t) => {
  const { factory, calls } = failingFactory(3, () => new Error('IO error: something transient'));
  const partition = await openPartition(t, { createDatabase: factory, openRetryBackoffMs: 20 });
  t.equal(calls(), 4);
  t.equal(partition.closed, false);
});

t.test('46. a locked database raises StoreLockedError naming the path, with or without retries', async (t) => {
  const path = join(t.testdir(), 'db');
  const first = await StorePartition.open(path);
  t.teardown(() => first.close());
  const started = Date.now();
  await t.rejects(StorePartition.open(path, { openMaxRetries: 0 }), {
    constructor: StoreLockedError,
    attempts: 1,
    message: new RegExp(`"${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}".*another owner \\(process or thread\\) holds it`),
  });
  t.ok(Date.now() - started < 2000, 'no retry with openMaxRetries 0');
  const retries: OpenRetryEvent[] = [];
  const error = await StorePartition.open(path, { openMaxRetries: 3, openRetryBackoffMs: 30, onOpenRetry: (e) => retries.push(e) }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(error instanceof StoreLockedError, 'StoreLockedError after retries');
  t.equal((error as StoreLockedError).attempts, 4);
  t.same(
    retries.map((r) => `${r.attempt}/${r.maxAttempts}`),
    ['1/4', '2/4', '3/4'],
  );
  t.ok(retries.every((r) => r.path === path));
  t.match(describeOpenRetry(retries[0]!), /"[^"]+\/db".*lock.*another owner.*attempt 1\/4/);
});

t.test('47. a non-I/O open error is re-raised immediately with the same message', async (t) => {
  const { factory, calls } = failingFactory(5, () => new Error('something else broke'));
  await t.rejects(StorePartition.open(join(t.testdir(), 'db'), { createDatabase: factory }), { message: 'something else broke' });
  t.equal(calls(), 1);
});

async function corruptManifest(path: string): Promise<void> {
  const manifest = (await readdir(path)).find((f) => f.startsWith('MANIFEST'));
  await writeFile(join(path, manifest!), '');
}

async function writeAndClose(path: string, options = {}): Promise<void> {
  const partition = await StorePartition.open(path, options);
  await runTransaction(partition, (tx) => tx.set('k', 'v', new Uint8Array(0)));
  await partition.close();
}

t.test('48. corrupted database: error without changelog or without recreate, else recreated', async (t) => {
  const path = join(t.testdir(), 'db');
  await writeAndClose(path);
  await corruptManifest(path);
  await t.rejects(StorePartition.open(path), {
    constructor: StoreCorruptedError,
    resolution: 'no-changelog',
    message: /is corrupted \(.*\); the store has no changelog/,
  });
  await t.rejects(StorePartition.open(path, { hasChangelog: true, onCorruptedRecreate: false }), {
    constructor: StoreCorruptedError,
    resolution: 'recreate-disabled',
    message: /state\.onCorruptedRecreate is false/,
  });
  const recreatedPaths: string[] = [];
  const recreated = await StorePartition.open(path, { hasChangelog: true, onCorruptedRecreated: (p) => recreatedPaths.push(p) });
  t.same(recreatedPaths, [path]);
  t.equal(await recreated.get(bytes('"k"')), undefined, 'recreated empty');
  t.equal(recreated.getChangelogOffset(), undefined);
  await recreated.close();

  // A deleted table file is corruption too.
  const other = join(t.testdir(), 'db2');
  const level = new ClassicLevel(other);
  await level.open();
  for (let i = 0; i < 200; i++) await level.put(`k${i}`, 'v'.repeat(100));
  await level.close();
  await level.open(); // converts the log into a table file
  await level.close();
  for (const file of await readdir(other)) if (/\.(ldb|sst)$/.test(file)) await rm(join(other, file));
  const rebuilt = await StorePartition.open(other, { hasChangelog: true });
  t.equal(await rebuilt.get(bytes('k1')), undefined);
  await rebuilt.close();
});

t.test('49. column families: fresh partition lists default and __metadata__; created ones are listed', async (t) => {
  const partition = await openPartition(t);
  t.same(partition.listColumnFamilies().sort(), [METADATA_CF, DEFAULT_CF].sort());
  partition.ensureColumnFamily('cf');
  partition.ensureColumnFamily('cf');
  t.same(partition.listColumnFamilies().sort(), ['__metadata__', 'cf', 'default']);
  await runTransaction(partition, (tx) => tx.set('k', 1, new Uint8Array(0), 'stored_cf'));
  const path = partition.path;
  await partition.close();
  const reopened = await StorePartition.open(path);
  t.teardown(() => reopened.close());
  t.same(reopened.listColumnFamilies().sort(), ['__metadata__', 'default', 'stored_cf'], 'families with data are found on open');
  t.throws(() => reopened.ensureColumnFamily('bad name!'), { code: 'INVALID_COLUMN_FAMILY_NAME' });
});

t.test('50. range iteration respects bounds in both directions', async (t) => {
  const partition = await openPartition(t);
  const prefix = bytes('prefix');
  const keys = [appendInteger(prefix, 1), appendInteger(prefix, 2), appendInteger(prefix, 10)];
  await runTransaction(partition, (tx) => {
    tx.setBytes(bytes('prefi'), bytes('low'), new Uint8Array(0));
    for (const key of keys) tx.setBytes(key, bytes('v'), new Uint8Array(0));
    tx.setBytes(appendInteger(prefix, 11), bytes('high'), new Uint8Array(0));
  });
  const upper = appendInteger(prefix, 11);
  const forward = await partition.getItems({ lower: prefix, upper });
  t.same(forward.map(([k]) => Buffer.from(k)), keys.map((k) => Buffer.from(k)));
  const backward = await partition.getItems({ lower: prefix, upper, backwards: true });
  t.same(backward.map(([k]) => Buffer.from(k)), [...keys].reverse().map((k) => Buffer.from(k)));
  const exclusive = await partition.getItems({ lower: prefix, upper: appendInteger(prefix, 2) });
  t.same(exclusive.map(([k]) => Buffer.from(k)), [Buffer.from(keys[0]!)], 'upper bound exclusive');
  const backLower = await partition.getItems({ lower: appendInteger(prefix, 2), upper, backwards: true });
  t.same(backLower.map(([k]) => Buffer.from(k)), [Buffer.from(keys[2]!), Buffer.from(keys[1]!)], 'backwards respects lower');
  t.equal((await partition.getItems({ cf: 'empty' })).length, 0, 'an empty family yields nothing');
  t.equal((await partition.getItems()).length, 5, 'unbounded covers the family only');
});

t.test('51. global counter: per-partition, persisted at prepare, wraps after 2^64-1', async (t) => {
  const partition = await openPartition(t);
  await runTransaction(partition, (tx) => {
    t.equal(tx.nextGlobalCounter(), 0n);
    t.equal(tx.nextGlobalCounter(), 1n);
  });
  await runTransaction(partition, (tx) => {
    t.equal(tx.nextGlobalCounter(), 2n);
    t.equal(tx.nextGlobalCounter(), 3n);
  });
  const stored = await partition.get(GLOBAL_COUNTER_KEY, GLOBAL_COUNTER_CF);
  t.equal(text(stored), '3', 'stored as JSON(int)');

  const fresh = await openPartition(t, {}, 'fresh');
  const tx = fresh.begin();
  tx.nextGlobalCounter();
  tx.nextGlobalCounter();
  tx.nextGlobalCounter();
  t.equal(await fresh.get(GLOBAL_COUNTER_KEY, GLOBAL_COUNTER_CF), undefined, 'not visible before prepare');
  await tx.prepare(null);
  await tx.flush();
  await runTransaction(fresh, (next) => {
    t.equal(next.nextGlobalCounter(), 3n, '2 was the last value stored');
  });

  const wrap = await openPartition(t, {}, 'wrap');
  await runTransaction(wrap, (w) => w.setBytes(GLOBAL_COUNTER_KEY, bytes((BE64_MAX - 2n).toString()), new Uint8Array(0), GLOBAL_COUNTER_CF));
  await runTransaction(wrap, (w) => {
    t.equal(w.nextGlobalCounter(), BE64_MAX - 1n);
    t.equal(w.nextGlobalCounter(), BE64_MAX);
    t.equal(w.nextGlobalCounter(), 0n, 'wraps to 0');
  });
});

t.test('53. an abort signal stops waiting for a locked database', async (t) => {
  const path = join(t.testdir(), 'db');
  const first = await StorePartition.open(path);
  t.teardown(() => first.close());
  const controller = new AbortController();
  const started = Date.now();
  const opening = StorePartition.open(path, { openMaxRetries: 100, openRetryBackoffMs: 5000, signal: controller.signal });
  setTimeout(() => controller.abort(), 100);
  await t.rejects(opening, StoreOpenAbortedError);
  t.ok(Date.now() - started < 5000, 'aborted before the first backoff ended');
  const aborted = new AbortController();
  aborted.abort();
  await t.rejects(StorePartition.open(join(t.testdir(), 'other'), { signal: aborted.signal }), StoreOpenAbortedError);
});

t.test('54. an open deadline ends lock retries with the lock error', async (t) => {
  const path = join(t.testdir(), 'db');
  const first = await StorePartition.open(path);
  t.teardown(() => first.close());
  const started = Date.now();
  await t.rejects(
    StorePartition.open(path, { openMaxRetries: 100, openRetryBackoffMs: 100, openDeadline: Date.now() + 250 }),
    StoreLockedError,
  );
  t.ok(Date.now() - started < 5000);
});

t.test('55. close releases the lock (LevelDB equivalent of the close-API scenarios); close is idempotent', async (t) => {
  const path = join(t.testdir(), 'db');
  const first = await StorePartition.open(path);
  await first.close();
  await first.close();
  const second = await StorePartition.open(path, { openMaxRetries: 0 });
  t.equal(second.closed, false);
  await second.close();
});

t.test('column families use the abstract-level sublevel layout, user key bytes exact', async (t) => {
  const path = join(t.testdir(), 'db');
  const partition = await StorePartition.open(path);
  await runTransaction(partition, (tx) => tx.setBytes(bytes('a|b'), bytes('v'), bytes('p'), 'my_cf'));
  await partition.close();
  const level = new ClassicLevel<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' });
  await level.open();
  t.teardown(() => level.close());
  const sublevel = level.sublevel<Uint8Array, Uint8Array>('my_cf', { keyEncoding: 'view', valueEncoding: 'view' });
  t.equal(text(await sublevel.get(bytes('p|a|b'))), 'v');
  const keys = await level.keys().all();
  t.ok(keys.some((k) => text(k) === '!my_cf!p|a|b'));
});
