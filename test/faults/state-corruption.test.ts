/**
 * Corrupt or missing files in state (issue 12, items 2 and 4): a partition directory
 * without LevelDB's CURRENT file is refused instead of silently restarted empty; a
 * damaged partition (truncated table, flipped byte LevelDB notices, corruption or I/O
 * errors reported by a read) is deleted and reopened empty to be rebuilt from its
 * changelog when `state.onCorruptedRecreate` allows, else a StoreCorruptedError names the
 * store, the partition, the path and the option; `weir state clear` works on it anyway.
 */
import t, { type Test } from 'tap';
import { mkdir, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfig } from '../../config/index.js';
import { clearState, dumpState } from '../../runtime/state-inspection.js';
import {
  StoreCorruptedError,
  StoreCurrentFileMissingError,
  StoreLockedError,
} from '../../shared/errors/state-errors.js';
import {
  KeyValueStore,
  StorePartition,
  classicLevelFactory,
  runTransaction,
  type StateDatabase,
} from '../../workers/state/index.js';
import { SYNC_READ_MAX_KEYS } from '../../shared/leveldb/read-many.js';

t.setTimeout(120_000);

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

/** A partition with `keys` entries, closed and reopened once so they are in a table (.ldb) file. */
async function partitionOnDisk(path: string, keys = 50): Promise<void> {
  const partition = await StorePartition.open(path, { hasChangelog: true });
  await runTransaction(partition, (tx) => {
    for (let i = 0; i < keys; i++) tx.set(`key-${i}`, { n: i, note: `value ${i * 7919}` }, json('user'));
  });
  await partition.close();
  await (await StorePartition.open(path, { hasChangelog: true })).close(); // the write-ahead log becomes a table
}

async function tableFile(path: string): Promise<string> {
  const table = (await readdir(path)).find((name) => /^\d+\.ldb$/.test(name));
  if (table === undefined) throw new Error(`no table file in ${path}`);
  return join(path, table);
}

async function files(path: string): Promise<string[]> {
  return (await readdir(path)).sort();
}

t.test('a partition directory holding data without CURRENT is refused, whatever the recreate option', async (t) => {
  const path = join(t.testdir(), 'counts', '3');
  await partitionOnDisk(path);
  await rm(join(path, 'CURRENT'));
  const before = await files(path);
  for (const options of [{}, { hasChangelog: true }, { hasChangelog: true, onCorruptedRecreate: true }]) {
    const error = (await StorePartition.open(path, { ...options, storeName: 'counts', partition: 3 }).catch((e: unknown) => e)) as StoreCurrentFileMissingError;
    t.type(error, StoreCurrentFileMissingError);
    t.equal(error.code, 'STORE_CURRENT_MISSING');
    t.equal(error.path, path);
    t.equal(error.store, 'counts');
    t.equal(error.partition, 3);
    t.match(error.message, `state store "counts" partition 3 at ${path} holds data but no CURRENT file`);
    t.match(error.message, /restore CURRENT .* or delete the directory \("weir state clear"\)/);
  }
  t.same(await files(path), before, 'nothing was created or deleted: the tables are still there');
});

t.test('a missing, empty or never-finished directory opens (nothing to lose)', async (t) => {
  const dir = t.testdir();
  await (await StorePartition.open(join(dir, 'missing'))).close();
  await mkdir(join(dir, 'empty'));
  await (await StorePartition.open(join(dir, 'empty'))).close();
  // A crash while LevelDB first created the database: LOCK and a manifest, no CURRENT, no data.
  await mkdir(join(dir, 'unfinished'));
  await writeFile(join(dir, 'unfinished', 'LOCK'), '');
  await writeFile(join(dir, 'unfinished', 'MANIFEST-000001'), '');
  await (await StorePartition.open(join(dir, 'unfinished'))).close();
  t.pass();
});

t.test('a truncated table file: recreated empty when allowed, else a named error with store, partition, path and option', async (t) => {
  const path = join(t.testdir(), 'counts', '0');
  await partitionOnDisk(path);
  const table = await tableFile(path);
  await truncate(table, Math.floor((await stat(table)).size / 2));

  const withoutChangelog = (await StorePartition.open(path, { storeName: 'counts', partition: 0 }).catch((e: unknown) => e)) as StoreCorruptedError;
  t.type(withoutChangelog, StoreCorruptedError);
  t.equal(withoutChangelog.resolution, 'no-changelog');
  t.match(withoutChangelog.message, `state store "counts" partition 0 at ${path} is corrupted`);
  t.match(withoutChangelog.message, /state\.changelog is false/);

  const disabled = (await StorePartition.open(path, { hasChangelog: true, onCorruptedRecreate: false, storeName: 'counts', partition: 0 }).catch(
    (e: unknown) => e,
  )) as StoreCorruptedError;
  t.type(disabled, StoreCorruptedError);
  t.equal(disabled.code, 'STORE_CORRUPTED');
  t.equal(disabled.store, 'counts');
  t.equal(disabled.partition, 0);
  t.equal(disabled.path, path);
  t.equal(disabled.resolution, 'recreate-disabled');
  t.match(disabled.message, /state\.onCorruptedRecreate is false/);
  t.ok(await stat(table), 'not deleted when recreating is off');

  const recreated: string[] = [];
  const partition = await StorePartition.open(path, { hasChangelog: true, onCorruptedRecreated: (p) => recreated.push(p) });
  t.same(recreated, [path], 'recreated once');
  t.equal(partition.getChangelogOffset(), undefined, 'empty: recovery replays the whole changelog');
  t.same(await partition.getItems(), []);
  await partition.close();
});

t.test('a flipped byte that LevelDB notices on read is corruption too', async (t) => {
  const path = join(t.testdir(), 'db');
  await partitionOnDisk(path);
  const table = await tableFile(path);
  const bytes = await readFile(table);
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff; // the table's magic number
  await writeFile(table, bytes);
  await t.rejects(StorePartition.open(path, { hasChangelog: true, onCorruptedRecreate: false }), {
    constructor: StoreCorruptedError,
    code: 'STORE_CORRUPTED',
    reason: /Corruption: .*bad magic number/,
  });
  const partition = await StorePartition.open(path, { hasChangelog: true });
  t.same(await partition.getItems(), [], 'recreated empty');
  await partition.close();
});

/** LevelDB's corruption error as classic-level reports it. */
function corruption(): Error {
  return Object.assign(new Error('Corruption: block checksum mismatch: /x/000005.ldb'), { code: 'LEVEL_CORRUPTION' });
}

/** The default engine, whose reads fail with {@link corruption} once `armed.on` is set. */
function damagedAfterOpen(armed: { on: boolean }): (path: string) => StateDatabase {
  return (path) => {
    const db = classicLevelFactory(path);
    const get = db.get.bind(db);
    const getMany = db.getMany.bind(db);
    const getSync = db.getSync.bind(db);
    return Object.assign(db, {
      get: (key: Uint8Array) => (armed.on ? Promise.reject(corruption()) : get(key)),
      getMany: (keys: Uint8Array[]) => (armed.on ? Promise.reject(corruption()) : getMany(keys)),
      getSync: (key: Uint8Array) => {
        if (armed.on) throw corruption();
        return getSync(key);
      },
    });
  };
}

/** A `counts` store whose engine fails every read once `armed.on`, with partition `p` assigned and written. */
async function damageableStore(t: Test, p: number): Promise<{ store: KeyValueStore; partition: StorePartition; armed: { on: boolean } }> {
  const armed = { on: false };
  const store = new KeyValueStore({
    name: 'counts',
    streamId: 'events',
    baseDir: t.testdir(),
    hasChangelog: true,
    options: { createDatabase: damagedAfterOpen(armed) },
  });
  t.teardown(() => store.close());
  const partition = await store.assignPartition(p);
  await runTransaction(partition, (tx) => tx.set('k', 1, json('user')));
  return { store, partition, armed };
}

t.test('corruption reported by a read of an open partition: deleted to be rebuilt, or named and kept', async (t) => {
  const { store, partition, armed } = await damageableStore(t, 2);
  armed.on = true;
  const error = (await partition.getMany([Buffer.from('x')]).catch((e: unknown) => e)) as StoreCorruptedError;
  t.type(error, StoreCorruptedError);
  t.equal(error.resolution, 'recreated');
  t.equal(error.store, 'counts');
  t.equal(error.partition, 2);
  t.match(error.message, /weir deleted it, and it is rebuilt from its changelog/);
  t.equal(partition.closed, true, 'the damaged handle is closed');
  await t.rejects(stat(store.partitionPath(2)), { code: 'ENOENT' }, 'and its directory deleted');
  armed.on = false;
  const reopened = await store.assignPartition(2);
  t.not(reopened, partition, 'assigning again opens a new, empty partition');
  t.equal(reopened.getChangelogOffset(), undefined);
  t.same(await reopened.getItems(), []);

  const keptDir = t.testdir();
  const keptArmed = { on: false };
  const kept = await StorePartition.open(join(keptDir, 'db'), {
    hasChangelog: true,
    onCorruptedRecreate: false,
    createDatabase: damagedAfterOpen(keptArmed),
  });
  t.teardown(() => kept.close());
  keptArmed.on = true;
  await t.rejects(kept.get(Buffer.from('x')), { constructor: StoreCorruptedError, code: 'STORE_CORRUPTED', resolution: 'recreate-disabled' });
  t.equal(kept.closed, false, 'kept open: nothing deleted');
  t.ok(await stat(join(keptDir, 'db', 'CURRENT')));
  keptArmed.on = false;

  // Not damage: a full disk is the machine's problem and is passed through unchanged.
  const full = Object.assign(new Error('IO error: /x/000007.log: No space left on device'), { code: 'LEVEL_IO_ERROR' });
  const fullDisk = await StorePartition.open(join(keptDir, 'full'), {
    hasChangelog: true,
    createDatabase: (path) => Object.assign(classicLevelFactory(path), { get: () => Promise.reject(full) }),
  });
  t.teardown(() => fullDisk.close());
  await t.rejects(fullDisk.get(Buffer.from('x')), full);
  t.equal(fullDisk.closed, false);
});

t.test('corruption reported by a read of more keys than are read synchronously: deleted to be rebuilt too', async (t) => {
  const { store, partition, armed } = await damageableStore(t, 1);
  armed.on = true;
  const keys = Array.from({ length: SYNC_READ_MAX_KEYS + 1 }, (_, i) => Buffer.from(`k${i}`));
  const error = (await partition.getMany(keys).catch((e: unknown) => e)) as StoreCorruptedError;
  t.type(error, StoreCorruptedError);
  t.equal(error.resolution, 'recreated');
  t.equal(error.partition, 1);
  t.equal(partition.closed, true, 'the damaged handle is closed');
  await t.rejects(stat(store.partitionPath(1)), { code: 'ENOENT' }, 'and its directory deleted');
});

t.test('weir state clear deletes a corrupt store without opening it, refuses a locked one; state dump names the corruption', async (t) => {
  const dir = t.testdir();
  await writeFile(join(dir, 'pipeline.mjs'), 'export default { stores: { counts: {} }, process() {} };\n');
  const config = parseConfig({ appId: 'app', input: { topics: ['events'] }, pipeline: './pipeline.mjs' }, join(dir, 'weir.yaml'), dir, {});
  const partitionPath = (p: number): string => join(config.state.dir, 'app', 'counts', 'events', String(p));
  await partitionOnDisk(partitionPath(0));
  await partitionOnDisk(partitionPath(1));
  const table = await tableFile(partitionPath(0));
  await truncate(table, 10);
  await rm(join(partitionPath(1), 'CURRENT'));

  const dumped = dumpState(config, 'counts');
  const dumpError = (await dumped.next().catch((e: unknown) => e)) as StoreCorruptedError;
  t.type(dumpError, StoreCorruptedError);
  t.equal(dumpError.resolution, 'not-repaired', 'a dump never repairs');
  t.match(dumpError.message, /delete it with "weir state clear"/);
  t.ok(await stat(table), 'the dump deleted nothing');

  const held = await StorePartition.open(join(config.state.dir, 'app', 'counts', 'events', '2'));
  await t.rejects(clearState(config), { constructor: StoreLockedError, message: /counts\/events\/2/ });
  t.ok(await stat(partitionPath(0)), 'nothing deleted while a partition is held');
  await held.close();

  t.equal(await clearState(config), join(config.state.dir, 'app'));
  await t.rejects(stat(join(config.state.dir, 'app')), { code: 'ENOENT' });
  t.ok(await stat(config.state.dir), 'state.dir itself stays');
});
