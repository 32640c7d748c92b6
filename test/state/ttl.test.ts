/**
 * Per-write TTL on key-value state (docs/semantics.md §6.2) with weir's decisions:
 * expired keys are tombstoned on the changelog, stamps are announced by a header (never
 * sniffed), populated stores are migrated instead of refused, recovery drops nothing.
 */
import t, { type Test } from 'tap';
import fc from 'fast-check';
import { join } from 'node:path';
import { decodeBE64Number, encodeBE64, encodeJson } from '../../shared/codecs/index.js';
import { NEVER_EXPIRES, readStamp, stampValue } from '../../shared/codecs/ttl-stamp.js';
import { IncompatibleStateStoreError, InvalidTtlError, TtlTimestampMissingError } from '../../shared/errors/state-errors.js';
import {
  DEFAULT_CF,
  METADATA_CF,
  StorePartition,
  StateView,
  TTL_ENABLED_KEY,
  TTL_FORMAT_VERSION_KEY,
  TTL_CLOCK_CF,
  TTL_HIGH_WATER_KEY,
  TTL_INDEX_CF,
  TTL_STAMPED_HEADER,
  type ChangelogRecord,
  type ReplayedChangelogRecord,
  type StorePartitionOptions,
} from '../../workers/state/index.js';
import { bytes, headerValue, openPartition } from './fixtures/partition-helpers.js';

t.setTimeout(120_000);

const PREFIX = bytes('"msg"');
const DAY = 24 * 3600 * 1000;

/** A partition plus the changelog its checkpoints produced, to replay elsewhere. */
class Checkpoints {
  readonly changelog: ReplayedChangelogRecord[] = [];

  constructor(readonly partition: StorePartition) {}

  /**
   * One checkpoint: `write` runs against the state of a record at `timestampMs`, then
   * prepare + flush. Returns the changelog records of the user data (default family).
   */
  async run(timestampMs: number, write: (state: StateView) => void): Promise<ChangelogRecord[]> {
    const tx = this.partition.begin();
    write(new StateView(tx, PREFIX, timestampMs));
    const records = (await tx.prepare(null)).records();
    for (const record of records) this.changelog.push({ ...record, offset: this.changelog.length });
    await tx.flush(records.length > 0 ? this.changelog.length - 1 : undefined);
    return records.filter((r) => headerValue(r.headers, '__column_family__') === DEFAULT_CF);
  }

  /** What the state of a record at `timestampMs` reads for `key` (in a transaction that is then dropped). */
  async read(timestampMs: number, key: string): Promise<unknown> {
    return new StateView(this.partition.begin(), PREFIX, timestampMs).getAsync(key);
  }
}

async function indexEntries(partition: StorePartition): Promise<string[]> {
  const entries = await partition.getItems({ cf: TTL_INDEX_CF });
  return entries.map(([key]) => `${decodeBE64Number(key)}|${Buffer.from(key.subarray(8)).toString('latin1')}`);
}

function storedKey(key: string): Uint8Array {
  return Buffer.concat([PREFIX, bytes('|'), encodeJson(key)]);
}

async function openCheckpoints(t: Test, options: StorePartitionOptions = {}, name = 'db'): Promise<Checkpoints> {
  return new Checkpoints(await openPartition(t, { hasChangelog: true, ...options }, name));
}

t.test('56. TTL refresh: a key re-written with a new TTL is not swept by its old expiry', async (t) => {
  const c = await openCheckpoints(t);
  await c.run(1000, (s) => s.set('k', 'old', { ttlMs: 100 }));
  await c.run(2000, (s) => s.set('k', 'new', { ttlMs: 100 }));
  t.equal(await c.read(2000, 'k'), 'new');
  t.equal(await c.read(2099, 'k'), 'new', 'alive until its new expiry');
  t.equal(await c.read(2100, 'k'), undefined, 'expired at 2100');
});

t.test('57. same-stamp rewrite survives the sweep of its own checkpoint, then goes with the next', async (t) => {
  const c = await openCheckpoints(t);
  await c.run(1000, (s) => s.set('k', 1, { ttlMs: 100 }));
  t.same(await indexEntries(c.partition), ['1100|"msg"|"k"']);
  await c.run(2000, (s) => s.set('other', 2));
  // Re-written at t=1000 (same stamp) while the clock is 2000: this checkpoint leaves it.
  const tx = c.partition.begin();
  new StateView(tx, PREFIX, 2000).set('other', 3);
  new StateView(tx, PREFIX, 1000).set('k', 1, { ttlMs: 100 });
  await tx.prepare(null);
  await tx.flush();
  t.same(await indexEntries(c.partition), ['1100|"msg"|"k"'], 'index entry still present');
  t.ok(await c.partition.exists(storedKey('k')), 'k still stored');
  const swept = await c.run(2001, () => undefined);
  t.same(swept.map((r) => [Buffer.from(r.key).toString('latin1'), r.value]), [['"msg"|"k"', null]], 'k tombstoned on the changelog');
  t.same(await indexEntries(c.partition), [], 'index entry removed');
  t.notOk(await c.partition.exists(storedKey('k')), 'k removed');
  t.equal(await c.read(2001, 'other'), 3, 'the key without TTL stays');
});

t.test('58. the first TTL write switches an empty partition into TTL mode', async (t) => {
  const c = await openCheckpoints(t);
  t.equal(c.partition.ttlEnabled, false);
  const records = await c.run(5000, (s) => {
    s.set('plain', 'p');
    s.set('short', 's', { ttlMs: 10 });
  });
  t.equal(c.partition.ttlEnabled, true);
  t.same(await c.partition.get(TTL_ENABLED_KEY, METADATA_CF), Uint8Array.of(1), '__ttl_enabled__ = 0x01');
  t.same(await c.partition.get(TTL_FORMAT_VERSION_KEY, METADATA_CF), encodeBE64(2), 'format version 2');
  t.same(await c.partition.get(TTL_HIGH_WATER_KEY, TTL_CLOCK_CF), encodeBE64(5000), 'clock persisted');
  const byKey = new Map(records.map((r) => [Buffer.from(r.key).toString('latin1'), r]));
  t.same(byKey.get('"msg"|"plain"')!.value, stampValue(NEVER_EXPIRES, encodeJson('p')), 'plain value stamped "never"');
  t.same(byKey.get('"msg"|"short"')!.value, stampValue(5010, encodeJson('s')), 'TTL value stamped with t + ttl');
  t.equal(headerValue(byKey.get('"msg"|"plain"')!.headers, TTL_STAMPED_HEADER), '1', 'stamped records carry the header');
  t.same(await indexEntries(c.partition), ['5010|"msg"|"short"']);
});

t.test('58. (decided) a populated partition is migrated, not refused: old values never expire', async (t) => {
  const c = await openCheckpoints(t);
  const legacy = await c.run(1000, (s) => {
    s.set('a', 1);
    s.set('b', 2);
  });
  t.same(legacy[0]!.value, encodeJson(1), 'legacy mode: values byte-identical, unstamped');
  t.equal(headerValue(legacy[0]!.headers, TTL_STAMPED_HEADER), undefined, 'and without the stamp header');
  t.equal(c.partition.ttlEnabled, false);
  const migrating = await c.run(2000, (s) => s.set('c', 3, { ttlMs: 500 }));
  t.equal(c.partition.ttlEnabled, true);
  t.same(
    migrating.map((r) => Buffer.from(r.key).toString('latin1')),
    ['"msg"|"c"'],
    'the migration is local: only the checkpoint own write goes to the changelog',
  );
  t.same(await c.partition.get(storedKey('a')), stampValue(NEVER_EXPIRES, encodeJson(1)), 'stored values re-stamped');
  t.equal(await c.read(10 * DAY, 'a'), 1, 'a never expires');
  t.equal(await c.read(10 * DAY, 'b'), 2);
  t.equal(await c.read(10 * DAY, 'c'), undefined, 'c expired');
});

t.test('59. dedup: an id seen at t is forgotten by a record at t + 7 days', async (t) => {
  const c = await openCheckpoints(t);
  const t0 = Date.UTC(2026, 0, 1);
  await c.run(t0, (s) => s.set('id-1', 1, { ttlMs: 7 * DAY }));
  t.equal(await c.read(t0 + 7 * DAY - 1, 'id-1'), 1, 'seen one ms before');
  t.equal(await c.read(t0 + 7 * DAY, 'id-1'), undefined, 'forgotten at t + 7 d');
});

t.test('TTL arguments are checked before the write; a bad one does not fail the transaction', async (t) => {
  const partition = await openPartition(t);
  const tx = partition.begin();
  const state = new StateView(tx, PREFIX, 1000);
  for (const ttlMs of [0, -5, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number]) {
    t.throws(() => state.set('k', 1, { ttlMs }), InvalidTtlError, `ttlMs ${String(ttlMs)}`);
  }
  t.throws(() => new StateView(tx, PREFIX).set('k', 1, { ttlMs: 10 }), TtlTimestampMissingError, 'no record timestamp');
  t.throws(() => state.set('k', 1, { ttlMs: 0 }), /state key "k".*positive, finite number of milliseconds; got 0/);
  t.equal(tx.status, 'STARTED');
  state.set('k', 1, { ttlMs: 0.2 });
  t.equal(state.get('k'), 1, 'a fractional TTL rounds up to 1 ms');
  t.equal(new StateView(tx, PREFIX, 1001).get('k'), undefined, 'and expires 1 ms later');
});

t.test('set without a TTL drops an earlier TTL, in the same checkpoint and across checkpoints', async (t) => {
  const c = await openCheckpoints(t);
  await c.run(1000, (s) => {
    s.set('same', 1, { ttlMs: 10 });
    s.set('same', 2);
  });
  await c.run(1000, (s) => s.set('across', 1, { ttlMs: 10 }));
  await c.run(1005, (s) => s.set('across', 2));
  await c.run(5000, () => undefined);
  t.equal(await c.read(5000, 'same'), 2);
  t.equal(await c.read(5000, 'across'), 2);
  t.same(await indexEntries(c.partition), [], 'the stale index entry was dropped by the sweep');
});

t.test('deleting a TTL key: gone at once, its index entry dropped later', async (t) => {
  const c = await openCheckpoints(t);
  await c.run(1000, (s) => s.set('k', 1, { ttlMs: 100 }));
  await c.run(1001, (s) => s.delete('k'));
  t.equal(await c.read(1001, 'k'), undefined);
  const records = await c.run(2000, () => undefined);
  t.same(records, [], 'nothing to tombstone twice');
  t.same(await indexEntries(c.partition), []);
});

t.test('the clock moves within a checkpoint: a later record reads an expired write as missing', async (t) => {
  const partition = await openPartition(t);
  const tx = partition.begin();
  new StateView(tx, PREFIX, 1000).set('k', 'v', { ttlMs: 50 });
  t.equal(new StateView(tx, PREFIX, 1049).get('k'), 'v');
  t.equal(new StateView(tx, PREFIX, 1050).get('k'), undefined);
  t.equal(new StateView(tx, PREFIX, 1000).get('k'), undefined, 'the clock never goes back');
  t.equal(new StateView(tx, PREFIX, 1000).exists('k'), false);
});

t.test('(decided) a record rolled back to its savepoint still moved the clock; its TTL writes are undone', async (t) => {
  const partition = await openPartition(t);
  const tx = partition.begin();
  new StateView(tx, PREFIX, 1000).set('k', 'v', { ttlMs: 50 });
  tx.setSavepoint();
  const failing = new StateView(tx, PREFIX, 1060); // a record that fails under skip / dead-letter
  failing.set('other', 'w', { ttlMs: 10_000 });
  tx.rollbackToSavepoint();
  t.equal(await new StateView(tx, PREFIX, 1010).getAsync('other'), undefined, 'its write is gone');
  t.equal(new StateView(tx, PREFIX, 1010).get('k'), undefined, 'its time was seen: k expired at 1050');
});

t.test('the sweep deletes expired keys in expiry order, at most the budget per checkpoint, with tombstones', async (t) => {
  const c = await openCheckpoints(t, { ttlMaxEvictionsPerCheckpoint: 2 });
  await c.run(1000, (s) => {
    for (const [key, ttl] of [['e', 50], ['a', 10], ['d', 40], ['b', 20], ['c', 30], ['keep', 5000]] as const) s.set(key, key, { ttlMs: ttl });
  });
  const tombstoned = async (at: number) =>
    (await c.run(at, () => undefined)).map((r) => {
      t.equal(r.value, null);
      return JSON.parse(Buffer.from(r.key.subarray(PREFIX.length + 1)).toString('utf8')) as string;
    });
  t.same(await tombstoned(2000), ['a', 'b']);
  t.same(await tombstoned(2000), ['c', 'd']);
  t.same(await tombstoned(2000), ['e']);
  t.same(await tombstoned(2000), []);
  t.same(await indexEntries(c.partition), ['6000|"msg"|"keep"']);
  t.equal(await c.read(2000, 'keep'), 'keep');
});

t.test('the clock is persisted and reloaded: a reopened partition does not bring expired keys back', async (t) => {
  const path = join(t.testdir(), 'db');
  const first = new Checkpoints(await StorePartition.open(path, { hasChangelog: true, ttlMaxEvictionsPerCheckpoint: 1 }));
  await first.run(1000, (s) => {
    s.set('x', 1, { ttlMs: 10 });
    s.set('y', 1, { ttlMs: 10 });
  });
  await first.run(3000, () => undefined); // sweeps x only (budget 1)
  await first.partition.close();
  const reopened = new Checkpoints(await StorePartition.open(path, { hasChangelog: true }));
  t.teardown(() => reopened.partition.close());
  t.equal(reopened.partition.ttlEnabled, true);
  t.equal(reopened.partition.ttlHighWaterMs, 3000);
  t.ok(await reopened.partition.exists(storedKey('y')), 'y not swept yet');
  t.equal(await reopened.read(1001, 'y'), undefined, 'an older record still sees y expired');
});

t.test('a TTL database with a missing or unknown format version is refused with its path', async (t) => {
  for (const version of [undefined, encodeBE64(1), encodeBE64(3)]) {
    const path = join(t.testdir(), `v${version === undefined ? 'none' : decodeBE64Number(version)}`);
    const partition = await StorePartition.open(path);
    // Write the flags directly, as an older or newer version would have.
    const tx = partition.begin();
    tx.setBytes(TTL_ENABLED_KEY, Uint8Array.of(1), new Uint8Array(0), METADATA_CF);
    if (version !== undefined) tx.setBytes(TTL_FORMAT_VERSION_KEY, version, new Uint8Array(0), METADATA_CF);
    await tx.flush();
    await partition.close();
    const error = await StorePartition.open(path).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.type(error, IncompatibleStateStoreError);
    t.match((error as Error).message, path);
  }
});

t.test('recovery: the changelog rebuilds TTL state, expired keys stay gone, plain records never expire', async (t) => {
  const c = await openCheckpoints(t);
  await c.run(1000, (s) => s.set('legacy', 'L')); // before TTL mode: a plain record
  await c.run(1000, (s) => {
    s.set('short', 'S', { ttlMs: 100 });
    s.set('long', 'G', { ttlMs: 10_000 });
  });
  await c.run(2000, () => undefined); // sweeps "short": a tombstone on the changelog
  const replica = await openPartition(t, { hasChangelog: true }, 'replica');
  await replica.recoverFromChangelog(c.changelog, {});
  t.equal(replica.ttlEnabled, true, 'the first stamped record switched the replica into TTL mode');
  t.notOk(await replica.exists(storedKey('short')), 'the swept key is not resurrected');
  t.same(await replica.get(storedKey('legacy')), stampValue(NEVER_EXPIRES, encodeJson('L')), 'the plain record is stored "never"');
  // A replayed tombstone cannot name the index entry of the value it deletes; the sweep drops it.
  t.same(await indexEntries(replica), ['1100|"msg"|"short"', '11000|"msg"|"long"'], 'index rebuilt');
  const r = new Checkpoints(replica);
  t.same(await r.run(2000, () => undefined), [], 'the stale entry goes without a tombstone');
  t.same(await indexEntries(replica), ['11000|"msg"|"long"']);
  t.equal(await r.read(10_999, 'long'), 'G');
  t.equal(await r.read(11_000, 'long'), undefined);
  t.equal(await r.read(11_000, 'legacy'), 'L');
});

t.test('(decided) the clock is changelogged: a replica resumes with it, so expired keys stay hidden', async (t) => {
  const c = await openCheckpoints(t);
  await c.run(1000, (s) => s.set('k', 1, { ttlMs: 500 }));
  const tx = c.partition.begin();
  tx.observeTimestamp(1200);
  const records = (await tx.prepare(null)).records();
  t.same(
    records.map((r) => [headerValue(r.headers, '__column_family__'), r.value]),
    [[TTL_CLOCK_CF, encodeBE64(1200)]],
    'a checkpoint that only moved the clock changelogs it',
  );
  for (const record of records) c.changelog.push({ ...record, offset: c.changelog.length });
  await tx.flush(c.changelog.length - 1);
  const idle = c.partition.begin();
  t.same((await idle.prepare(null)).records(), [], 'nothing when the clock did not move');
  const replica = await openPartition(t, { hasChangelog: true }, 'replica');
  await replica.recoverFromChangelog(c.changelog, {});
  t.equal(replica.ttlHighWaterMs, 1200, 'clock recovered');
  t.equal(await new Checkpoints(replica).read(900, 'k'), 1, 'alive before its expiry, even for an older record');
});

t.test('recovery stores keys that expired but were not swept; reads hide them and the next sweep deletes them', async (t) => {
  const c = await openCheckpoints(t);
  await c.run(1000, (s) => s.set('k', 1, { ttlMs: 10 }));
  const replica = new Checkpoints(await openPartition(t, { hasChangelog: true }, 'replica'));
  await replica.partition.recoverFromChangelog(c.changelog, {});
  t.ok(await replica.partition.exists(storedKey('k')), 'stored (Quix Streams would drop it by a clock of expiry times)');
  t.equal(await replica.read(1010, 'k'), undefined);
  const records = await replica.run(1010, () => undefined);
  t.same(records.map((r) => r.value), [null], 'tombstoned by the replica');
});

t.test('32. (decided) stamps are announced by a header, never guessed from the bytes', async (t) => {
  const looksStamped = stampValue(NEVER_EXPIRES, bytes('value'));
  const plain = await openPartition(t, { hasChangelog: true }, 'plain');
  await plain.recoverFromChangelogMessage(bytes('key'), looksStamped, DEFAULT_CF, 2);
  t.equal(plain.ttlEnabled, false, 'bytes alone do not switch TTL mode');
  t.same(await plain.get(bytes('key')), looksStamped, 'stored verbatim');
  const stamped = await openPartition(t, { hasChangelog: true }, 'stamped');
  await stamped.recoverFromChangelogMessage(bytes('key'), looksStamped, DEFAULT_CF, 2, [{ key: TTL_STAMPED_HEADER, value: '1' }]);
  t.equal(stamped.ttlEnabled, true, 'the header switches TTL mode');
  t.same(await stamped.get(bytes('key')), looksStamped, 'stored verbatim');
  t.equal(stamped.getChangelogOffset(), 2);
  t.same(await stamped.get(TTL_ENABLED_KEY, METADATA_CF), Uint8Array.of(1), 'flags persisted at once');
});

t.test('pipelined checkpoints: the transaction continuing a switching one reads its stamped writes', async (t) => {
  const partition = await openPartition(t, { hasChangelog: true });
  const first = partition.begin();
  new StateView(first, PREFIX, 1000).set('k', 'v', { ttlMs: 100 });
  await first.prepare(null);
  let flushed!: () => void;
  const second = partition.begin();
  second.continueFrom(first, new Promise<void>((resolve) => (flushed = resolve)));
  t.equal(new StateView(second, PREFIX, 1050).get('k'), 'v', 'seeded from the prepared write, before its flush');
  t.equal(new StateView(second, PREFIX, 1100).get('k'), undefined, 'and expires on time');
  await first.flush(0);
  flushed();
  await second.prepare(null);
  await second.flush(1);
  t.notOk(await partition.exists(storedKey('k')), 'swept by the continuing checkpoint');
});

t.test('property: reads, the store and a replica rebuilt from the changelog agree with a model', async (t) => {
  type Op =
    | { kind: 'set'; key: string; value: number; ttlMs: number | null; at: number }
    | { kind: 'delete'; key: string; at: number }
    | { kind: 'checkpoint' };
  const keys = ['a', 'b', 'c', 'd'];
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      kind: fc.constant('set' as const),
      key: fc.constantFrom(...keys),
      value: fc.integer({ min: 0, max: 9 }),
      ttlMs: fc.option(fc.integer({ min: 1, max: 60 }), { nil: null }),
      at: fc.integer({ min: 0, max: 200 }),
    }),
    fc.record({ kind: fc.constant('delete' as const), key: fc.constantFrom(...keys), at: fc.integer({ min: 0, max: 200 }) }),
    fc.constant({ kind: 'checkpoint' as const }),
  );
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 3 }), async (ops, budget) => {
      run++;
      const c = new Checkpoints(await StorePartition.open(join(t.testdir(), `p${run}`), { hasChangelog: true, ttlMaxEvictionsPerCheckpoint: budget }));
      const model = new Map<string, { value: number; expiresAt: number }>();
      let clock = 0;
      const visible = (key: string) => {
        const entry = model.get(key);
        return entry !== undefined && entry.expiresAt > clock ? entry.value : undefined;
      };
      try {
        let tx = c.partition.begin();
        const checkpoint = async () => {
          const records = (await tx.prepare(null)).records();
          for (const record of records) c.changelog.push({ ...record, offset: c.changelog.length });
          await tx.flush(records.length > 0 ? c.changelog.length - 1 : undefined);
          tx = c.partition.begin();
        };
        for (const o of ops) {
          if (o.kind === 'checkpoint') {
            await checkpoint();
            continue;
          }
          clock = Math.max(clock, o.at);
          const state = new StateView(tx, PREFIX, o.at);
          for (const key of keys) if ((await state.getAsync(key)) !== visible(key)) return false;
          if (o.kind === 'delete') {
            state.delete(o.key);
            model.delete(o.key);
          } else {
            state.set(o.key, o.value, o.ttlMs === null ? undefined : { ttlMs: o.ttlMs });
            model.set(o.key, { value: o.value, expiresAt: o.ttlMs === null ? Infinity : o.at + o.ttlMs });
          }
        }
        await checkpoint();
        const replica = new Checkpoints(await StorePartition.open(join(t.testdir(), `r${run}`), { hasChangelog: true }));
        try {
          await replica.partition.recoverFromChangelog(c.changelog, {});
          for (const key of keys) {
            const expected = visible(key);
            if (await c.read(clock, key) !== expected) return false;
            if (await replica.read(clock, key) !== expected) return false;
            // Nothing the model forgot may outlive a full sweep in the store or the replica.
            const stored = await replica.partition.get(storedKey(key));
            if (stored !== undefined && replica.partition.ttlEnabled && readStamp(stored) === undefined) return false;
            if (stored !== undefined && model.get(key) === undefined) return false;
          }
          return true;
        } finally {
          await replica.partition.close();
        }
      } finally {
        await c.partition.close();
      }
    }),
    { numRuns: 60 },
  );
  t.pass(`${run} random histories`);
});
