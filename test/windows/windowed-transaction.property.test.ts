/**
 * Property: WindowedTransaction (pending window writes in per-prefix slots) behaves
 * exactly like the reference implementation it replaced (fixtures/reference-windowed-
 * transaction.ts: one Map keyed by a `${start}:${end}:${prefixId}` string). Random
 * sequences of window updates, deletes (also of missing windows, and re-creations in
 * the same checkpoint), reads, expiries (the generator and expireWindowsNow), range
 * deletes, collected values and commits, over several prefixes (the empty one too),
 * run against two partitions: every read answers the same, and every checkpoint's
 * changelog has the same records, byte for byte, except that the current one leaves out
 * the tombstone of a window created and deleted in one checkpoint (the reference wrote
 * one for a key the store never held; docs/windows.md, decision 16).
 */
import t from 'tap';
import fc from 'fast-check';
import { join } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { StorePartition, WindowedTransaction, type TransactionChangelog } from '../../workers/state/index.js';
import { ReferenceWindowedTransaction } from './fixtures/reference-windowed-transaction.js';
import { drain } from './fixtures/window-helpers.js';

t.setTimeout(600_000);

const PREFIXES = ['', '"a"', '"b"', '"c"'];

type Op =
  | { op: 'update'; p: number; start: number; len: number; value: number | number[]; ts: number }
  | { op: 'set'; p: number; start: number; len: number; value: number }
  | { op: 'updateRange'; p: number; start: number; count: number; step: number; len: number }
  | { op: 'delete'; p: number; start: number; len: number }
  | { op: 'get'; p: number; start: number; len: number }
  | { op: 'range'; p: number; from: number; to: number; backwards: boolean }
  | { op: 'expire'; p: number; maxStart: number; del: boolean; collect: boolean; now: boolean }
  | { op: 'deleteWindows'; p: number; maxStart: number; values: boolean }
  | { op: 'collect'; p: number; value: number; id: number }
  | { op: 'latest'; p: number }
  | { op: 'commit' };

const p = fc.integer({ min: 0, max: PREFIXES.length - 1 });
const start = fc.integer({ min: 0, max: 12 });
const len = fc.integer({ min: 1, max: 4 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ op: fc.constant('update' as const), p, start, len, value: fc.oneof(fc.integer({ min: 0, max: 9 }), fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 2 })), ts: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('set' as const), p, start, len, value: fc.integer({ min: 0, max: 9 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), p, start, len }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('updateRange' as const), p, start, count: fc.integer({ min: 1, max: 4 }), step: fc.integer({ min: 1, max: 3 }), len }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('get' as const), p, start, len }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('range' as const), p, from: fc.integer({ min: -1, max: 12 }), to: fc.integer({ min: 0, max: 14 }), backwards: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('expire' as const), p, maxStart: fc.integer({ min: 0, max: 14 }), del: fc.boolean(), collect: fc.boolean(), now: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('deleteWindows' as const), p, maxStart: fc.integer({ min: 0, max: 14 }), values: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('collect' as const), p, value: fc.integer({ min: 0, max: 9 }), id: fc.integer({ min: 0, max: 14 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('latest' as const), p }) },
  { weight: 2, arbitrary: fc.constant({ op: 'commit' as const }) },
);

/** A changelog as comparable text: key, value and headers of every record, in order. */
const changelogText = (changelog: TransactionChangelog): string[] =>
  changelog.records().map((r) =>
    [
      Buffer.from(r.key).toString('hex'),
      r.value === null ? 'null' : Buffer.from(r.value).toString('hex'),
      ...r.headers.map((h) => `${h.key}=${h.value === null ? 'null' : Buffer.from(h.value).toString('hex')}`),
    ].join(' '),
  );

/** A changelog line's identity (key and headers) and whether it is a tombstone. */
function parseLine(line: string): { id: string; tombstone: boolean } {
  const [key, value, ...headers] = line.split(' ');
  return { id: [key, ...headers].join(' '), tombstone: value === 'null' };
}

/**
 * Whether the current implementation observed what the reference did: the same reads,
 * and the same changelog records per key (one per key and checkpoint), but for left-out
 * tombstones of keys the store does not hold (the reference's changelogs so far, folded,
 * decide that). A window created anew after a fresh one was deleted may take a later
 * place in its checkpoint's changelog, so the order of distinct keys is not compared.
 * Counts the left-out tombstones.
 */
function sameEffect(current: readonly unknown[], reference: readonly unknown[], counts: { leftOut: number }): boolean {
  if (current.length !== reference.length) return false;
  const stored = new Set<string>();
  for (let i = 0; i < current.length; i++) {
    const a = current[i] as [string, unknown, unknown];
    const b = reference[i] as [string, unknown, unknown];
    if (a[0] !== 'changelog' || b[0] !== 'changelog') {
      if (JSON.stringify(a) !== JSON.stringify(b)) return false;
      continue;
    }
    const mine = new Map<string, string>();
    for (const line of a[2] as string[]) {
      const { id } = parseLine(line);
      if (mine.has(id)) return false; // one record per key
      mine.set(id, line);
    }
    for (const line of b[2] as string[]) {
      const { id, tombstone } = parseLine(line);
      const own = mine.get(id);
      if (own === line) mine.delete(id);
      else if (own !== undefined || !tombstone || stored.has(id)) return false;
      else counts.leftOut++;
      if (tombstone) stored.delete(id);
      else stored.add(id);
    }
    if (mine.size > 0) return false; // a record the reference did not write
  }
  return true;
}

/**
 * Runs `ops` on the current and the reference implementation; returns what each
 * observed (read results and changelogs), or the first difference's position.
 */
async function observe(ops: readonly Op[]): Promise<{ current: unknown[]; reference: unknown[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-windowed-prop-'));
  const [a, b] = await Promise.all([
    StorePartition.open(join(dir, 'current'), { hasChangelog: true }),
    StorePartition.open(join(dir, 'reference'), { hasChangelog: true }),
  ]);
  try {
    const run = async (partition: StorePartition, make: (tx: ReturnType<StorePartition['begin']>) => WindowedTransaction | ReferenceWindowedTransaction, now: boolean): Promise<unknown[]> => {
      const seen: unknown[] = [];
      let tx = partition.begin();
      let w = make(tx);
      const prefix = (i: number): Uint8Array => Buffer.from(PREFIXES[i]!, 'latin1'); // a fresh array per call, as records have
      for (const [i, o] of ops.entries()) {
        switch (o.op) {
          case 'update':
            await w.updateWindow(o.start, o.start + o.len, o.value, o.ts, prefix(o.p));
            break;
          case 'set':
            // setWindow = updateWindow without the clock; the reference has only updateWindow, so
            // both move the clock first to the same time (a no-op for the window write's clock).
            await w.advanceLatestTimestamp(100, prefix(o.p));
            if (w instanceof WindowedTransaction) w.setWindow(o.start, o.start + o.len, o.value, prefix(o.p));
            else await w.updateWindow(o.start, o.start + o.len, o.value, 100, prefix(o.p));
            break;
          case 'updateRange': {
            // updateLoadedWindows = getWindow + setWindow window by window; the reference has
            // only updateWindow, so both move the clock first (as for 'set').
            const bump = (value: unknown): number => (typeof value === 'number' ? value + 1 : 1);
            const last = o.start + (o.count - 1) * o.step;
            await w.advanceLatestTimestamp(100, prefix(o.p));
            seen.push(['range', i, (await w.getWindows(-1, 30, prefix(o.p))).map((x) => [x.start, x.end, x.value])]); // loads the prefix
            if (w instanceof WindowedTransaction) {
              w.updateLoadedWindows(prefix(o.p), o.start, last, o.step, o.len, bump);
            } else {
              for (let s = o.start; s <= last; s += o.step) await w.updateWindow(s, s + o.len, bump(await w.getWindow(s, s + o.len, prefix(o.p))), 100, prefix(o.p));
            }
            break;
          }
          case 'delete':
            w.deleteWindow(o.start, o.start + o.len, prefix(o.p));
            break;
          case 'get':
            seen.push(['get', i, await w.getWindow(o.start, o.start + o.len, prefix(o.p), 'missing')]);
            break;
          case 'range':
            seen.push(['range', i, (await w.getWindows(o.from, o.to, prefix(o.p), o.backwards)).map((x) => [x.start, x.end, x.value])]);
            break;
          case 'expire': {
            const options = { delete: o.del, collect: o.collect };
            const expired =
              now && o.now && w instanceof WindowedTransaction
                ? await w.expireWindowsNow(o.maxStart, prefix(o.p), options)
                : await drain(w.expireWindows(o.maxStart, prefix(o.p), options));
            seen.push(['expire', i, expired.map((x) => [x.start, x.end, x.value, x.collected])]);
            break;
          }
          case 'deleteWindows':
            await w.deleteWindows(o.maxStart, o.values, prefix(o.p));
            break;
          case 'collect':
            w.addToCollection(o.value, o.id, prefix(o.p));
            break;
          case 'latest':
            seen.push(['latest', i, await w.getLatestTimestamp(prefix(o.p))]);
            break;
          case 'commit':
            seen.push(['changelog', i, changelogText(await w.prepare({ in: i }))]);
            await tx.flush(i);
            tx = partition.begin();
            w = make(tx);
            break;
        }
      }
      seen.push(['changelog', 'end', changelogText(await w.prepare({ in: ops.length }))]);
      return seen;
    };
    const current = await run(a, (tx) => new WindowedTransaction(tx), true);
    const reference = await run(b, (tx) => new ReferenceWindowedTransaction(tx), false);
    return { current, reference };
  } finally {
    await Promise.all([a.close(), b.close()]);
    await rm(dir, { recursive: true, force: true });
  }
}

t.test('window updates, deletes, reads, expiries and commits: same reads and changelog effect as the reference', async (t) => {
  let changelogRecords = 0;
  let expiredWindows = 0;
  const counts = { leftOut: 0 };
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 60 }), async (ops) => {
      const { current, reference } = await observe(ops);
      for (const entry of current as [string, unknown, unknown[]][]) {
        if (entry[0] === 'changelog') changelogRecords += entry[2].length;
        if (entry[0] === 'expire') expiredWindows += entry[2].length;
      }
      return sameEffect(current, reference, counts);
    }),
    { numRuns: 200 },
  );
  // The streams must exercise what they claim to.
  t.ok(changelogRecords > 500, `${changelogRecords} changelog records compared`);
  t.ok(expiredWindows > 50, `${expiredWindows} expired windows compared`);
  t.ok(counts.leftOut > 0, `${counts.leftOut} tombstones of windows created and deleted in one checkpoint left out`);
});

t.test('a stored window deleted then re-created in one checkpoint keeps its first-write place in the changelog', async (t) => {
  const ops: Op[] = [
    { op: 'update', p: 1, start: 5, len: 2, value: 0, ts: 1 },
    { op: 'commit' }, // [5, 7) stored
    { op: 'get', p: 1, start: 0, len: 1 },
    { op: 'range', p: 1, from: -1, to: 20, backwards: false }, // loads "a": later writes are pending
    { op: 'update', p: 1, start: 5, len: 2, value: 1, ts: 1 },
    { op: 'update', p: 1, start: 6, len: 2, value: 2, ts: 1 },
    { op: 'delete', p: 1, start: 5, len: 2 },
    { op: 'update', p: 1, start: 5, len: 3, value: 3, ts: 1 }, // same start, other end
    { op: 'update', p: 1, start: 5, len: 2, value: 4, ts: 1 }, // re-created
    { op: 'delete', p: 1, start: 9, len: 1 }, // a missing window: a tombstone
    { op: 'commit' },
  ];
  const { current, reference } = await observe(ops);
  t.same(current, reference);
  const changelog = (current as [string, unknown, string[]][]).filter((e) => e[0] === 'changelog')[1]![2];
  t.ok(changelog.some((line) => line.split(' ')[1] === 'null'), 'the tombstone is there');
});

t.test('a window created and deleted in one checkpoint leaves no changelog record; a stored one its tombstone', async (t) => {
  // Windows live in the default column family; the clock and indexes in their own.
  const windowKey = (line: string): boolean => line.includes(`__column_family__=${Buffer.from('default').toString('hex')}`);
  const ops: Op[] = [
    { op: 'range', p: 1, from: -1, to: 20, backwards: false }, // loads "a"
    { op: 'update', p: 1, start: 5, len: 2, value: 1, ts: 1 },
    { op: 'delete', p: 1, start: 5, len: 2 }, // created and deleted: nothing to write
    { op: 'update', p: 1, start: 6, len: 2, value: 2, ts: 1 },
    { op: 'commit' },
    { op: 'range', p: 1, from: -1, to: 20, backwards: false },
    { op: 'delete', p: 1, start: 6, len: 2 }, // stored at the commit: a tombstone
    { op: 'commit' },
  ];
  const { current, reference } = await observe(ops);
  const changelogs = (seen: unknown[]): string[][] =>
    (seen as [string, unknown, string[]][]).filter((e) => e[0] === 'changelog').map((e) => e[2].filter(windowKey));
  const [first, second] = changelogs(current);
  t.equal(first!.length, 1, 'only the window that survived the checkpoint');
  t.notOk(first!.some((line) => line.split(' ')[1] === 'null'), 'no tombstone');
  t.equal(changelogs(reference)[0]!.length, 2, 'the reference wrote a tombstone too');
  t.same(second!.map((line) => line.split(' ')[1]), ['null'], 'the stored window is deleted with a tombstone');
  t.ok(sameEffect(current, reference, { leftOut: 0 }));
});

t.test('thousands of windows created and deleted in one checkpoint: only the survivors are written', async (t) => {
  const ops: Op[] = [{ op: 'range', p: 2, from: -1, to: 20, backwards: false }];
  for (let i = 0; i < 3000; i++) {
    ops.push({ op: 'update', p: 2, start: i, len: 1, value: i % 10, ts: i });
    if (i % 100 !== 0) ops.push({ op: 'delete', p: 2, start: i, len: 1 });
    if (i === 1500) ops.push({ op: 'range', p: 2, from: 1400, to: 1600, backwards: false });
  }
  ops.push({ op: 'commit' });
  const { current, reference } = await observe(ops);
  const counts = { leftOut: 0 };
  t.ok(sameEffect(current, reference, counts));
  t.equal(counts.leftOut, 2970, 'no tombstone for a window that was never stored');
  const changelog = (current as [string, unknown, string[]][]).find((e) => e[0] === 'changelog')![2];
  t.equal(changelog.filter((line) => line.split(' ')[1] !== 'null').length, 31, 'the 30 surviving windows and the clock');
});

t.test('per-record savepoints (skip policy): dropped windows compacted at release; a rollback keeps a fresh window', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'weir-windowed-savepoints-'));
  const partition = await StorePartition.open(join(dir, 'db'), { hasChangelog: true });
  t.teardown(async () => {
    await partition.close();
    await rm(dir, { recursive: true, force: true });
  });
  const tx = partition.begin();
  const w = new WindowedTransaction(tx);
  const prefix = Buffer.from('"a"', 'latin1');
  await w.getWindows(-1, 20, prefix); // loaded: later writes are pending
  const record = (write: () => void, rollback = false): void => {
    w.setSavepoint();
    tx.setSavepoint();
    write();
    if (rollback) {
      w.rollbackToSavepoint();
      tx.rollbackToSavepoint();
    } else {
      w.releaseSavepoint();
      tx.releaseSavepoint();
    }
  };
  for (let i = 0; i < 3000; i++) {
    record(() => w.setWindow(i, i + 1, i, prefix));
    if (i % 100 !== 0) record(() => w.deleteWindow(i, i + 1, prefix));
  }
  record(() => w.deleteWindow(0, 1, prefix), true); // a failed record: [0, 1) stays
  t.same((await w.getWindows(-1, 3000, prefix)).map((x) => x.start), Array.from({ length: 30 }, (_, i) => i * 100));
  const windows = changelogText(await w.prepare({ in: 1 })).filter((line) => line.includes(`__column_family__=${Buffer.from('default').toString('hex')}`));
  t.equal(windows.length, 30, 'the 30 surviving windows');
  t.notOk(windows.some((line) => line.split(' ')[1] === 'null'), 'no tombstone');
});
