import t from 'tap';
import fc from 'fast-check';
import { appendInteger, encodeBE64, encodeJson, joinPrefixedKey, encodeUserKey } from '../../shared/codecs/index.js';
import {
  InvalidChangelogOffsetError,
  StateKeyNotLoadedError,
  StateSerializationError,
  StateTransactionError,
} from '../../shared/errors/state-errors.js';
import {
  COLUMN_FAMILY_HEADER,
  DELETED,
  PROCESSED_OFFSETS_HEADER,
  StorePartition,
  TransactionCache,
  UNDEFINED,
  byteKeyId,
  runTransaction,
} from '../../workers/state/index.js';
import { cachedValueSize } from '../../workers/state/transaction-cache.js';
import { bytes, headerValue, openPartition, text } from './fixtures/partition-helpers.js';

t.setTimeout(120_000);

const PREFIX = bytes('__key__');
const NO_PREFIX = new Uint8Array(0);

/** Counts calls of the partition's `write`. */
function spyWrites(partition: StorePartition): () => number {
  let calls = 0;
  const original = partition.write.bind(partition);
  partition.write = async (...args) => {
    calls++;
    return original(...args);
  };
  return () => calls;
}

t.test('1. an empty transaction completes without writing or producing', async (t) => {
  const partition = await openPartition(t, { hasChangelog: true });
  const writes = spyWrites(partition);
  const tx = partition.begin();
  const records = (await tx.prepare(null)).records();
  await tx.flush(5);
  t.equal(tx.status, 'COMPLETE');
  t.ok(tx.completed);
  t.same(records, []);
  t.equal(writes(), 0);
  t.equal(partition.getChangelogOffset(), undefined, 'not even the changelog offset');
});

t.test('2. read-only transactions write nothing and produce nothing', async (t) => {
  const partition = await openPartition(t, { hasChangelog: true });
  const writes = spyWrites(partition);
  for (let i = 0; i < 2; i++) {
    const records = await runTransaction(partition, async (tx) => {
      t.equal(await tx.getAsync('key', PREFIX), undefined);
    });
    t.same(records, []);
  }
  t.equal(writes(), 0);
});

t.test('3. deleting a missing key succeeds silently', async (t) => {
  const partition = await openPartition(t);
  await runTransaction(partition, (tx) => tx.delete('missing', PREFIX));
  t.equal(await partition.get(joinPrefixedKey(PREFIX, encodeUserKey('missing'))), undefined);
});

const JSON_CASES: [unknown, string][] = [
  ['string', '"string"'],
  [123, '123'],
  [123.123, '123.123'],
  [null, 'null'],
  [{ key: 'value', mapping: { key: 'value' } }, '{"key":"value","mapping":{"key":"value"}}'],
];

t.test('4. read-your-writes: get returns the value, getBytes the compact JSON', async (t) => {
  const partition = await openPartition(t);
  const tx = partition.begin();
  for (const [value, json] of JSON_CASES) {
    tx.set('key', value, PREFIX);
    t.same(tx.get('key', PREFIX), value);
    t.equal(text(tx.getBytes('key', PREFIX)), json);
  }
});

t.test('5. setBytes with JSON bytes reads back decoded, cached and persisted', async (t) => {
  const partition = await openPartition(t);
  const json = '{"key":"value","mapping":{"key":"value"}}';
  await runTransaction(partition, (tx) => {
    tx.setBytes('key', bytes(json), PREFIX);
    t.same(tx.get('key', PREFIX), JSON.parse(json));
  });
  const tx = partition.begin();
  t.same(await tx.getAsync('key', PREFIX), JSON.parse(json));
});

t.test('6. values persist across transactions for every key kind', async (t) => {
  const partition = await openPartition(t);
  const keys: unknown[] = ['string', 123, 123.123, [123, 456], bytes('somebytes')];
  await runTransaction(partition, (tx) => keys.forEach((key, i) => tx.set(key, `value${i}`, PREFIX)));
  const tx = partition.begin();
  for (const [i, key] of keys.entries()) {
    t.equal(await tx.getAsync(key, PREFIX), `value${i}`);
    t.equal(text(await tx.getBytesAsync(key, PREFIX)), `"value${i}"`);
  }
  t.ok(await partition.get(bytes('__key__|somebytes')), 'bytes keys verbatim');
  t.ok(await partition.get(bytes('__key__|[123,456]')), 'array keys as JSON');
});

t.test('7. get of a missing key returns the default', async (t) => {
  const partition = await openPartition(t);
  const tx = partition.begin();
  t.equal(await tx.getAsync('key', PREFIX, 123), 123);
  await tx.preload([joinPrefixedKey(PREFIX, encodeUserKey('key'))]);
  t.equal(tx.get('key', PREFIX, 123), 123);
});

t.test('8. set then delete in one transaction reads undefined', async (t) => {
  const partition = await openPartition(t);
  const tx = partition.begin();
  tx.set('key', 'value', PREFIX);
  tx.delete('key', PREFIX);
  t.equal(tx.get('key', PREFIX), undefined);
});

t.test('9. a persisted key deleted in tx2 is gone in tx2 and tx3', async (t) => {
  const partition = await openPartition(t);
  await runTransaction(partition, (tx) => tx.set('key', 'value', PREFIX));
  await runTransaction(partition, async (tx) => {
    t.equal(await tx.getAsync('key', PREFIX), 'value');
    tx.delete('key', PREFIX);
    t.equal(await tx.getAsync('key', PREFIX), undefined);
  });
  t.equal(await partition.begin().getAsync('key', PREFIX), undefined);
});

t.test('10. exists: cached set, other keys, persisted keys, cached deletes', async (t) => {
  const partition = await openPartition(t);
  await runTransaction(partition, (tx) => {
    tx.set('key', 'value', PREFIX);
    t.ok(tx.exists('key', PREFIX));
  });
  const tx = partition.begin();
  t.notOk(await tx.existsAsync('other', PREFIX));
  t.ok(await tx.existsAsync('key', PREFIX));
  tx.delete('key', PREFIX);
  t.notOk(tx.exists('key', PREFIX));
});

t.test('11. values and keys without a JSON form raise StateSerializationError', async (t) => {
  const partition = await openPartition(t);
  for (const bad of [new (class Thing {})(), new Date(), () => 1, 1n]) {
    t.throws(() => partition.begin().set('key', bad, PREFIX), StateSerializationError, 'value');
    t.throws(() => partition.begin().set(bad, 'value', PREFIX), StateSerializationError, 'key in set');
    t.throws(() => partition.begin().delete(bad, PREFIX), StateSerializationError, 'key in delete');
  }
});

t.test('12. setBytes with a non-bytes value raises StateSerializationError', async (t) => {
  const partition = await openPartition(t);
  const tx = partition.begin();
  t.throws(() => tx.setBytes('key', 'value' as unknown as Uint8Array, PREFIX), StateSerializationError);
  t.equal(tx.status, 'FAILED');
});

t.test('13. garbage bytes in the store raise StateSerializationError on get (tx stays usable)', async (t) => {
  const partition = await openPartition(t);
  const cache = new TransactionCache();
  const key = joinPrefixedKey(PREFIX, encodeUserKey('key'));
  cache.set('default', PREFIX.length, byteKeyId(key), Uint8Array.of(0xff, 0x00, 0x12));
  await partition.write(cache);
  const tx = partition.begin();
  await t.rejects(tx.getAsync('key', PREFIX), StateSerializationError);
  t.equal(tx.status, 'STARTED');
  t.throws(() => tx.get('key', PREFIX), StateSerializationError, 'sync read too (now cached)');
});

t.test('14. prefixes isolate state', async (t) => {
  const partition = await openPartition(t);
  const one = bytes('__key1__');
  const two = bytes('__key2__');
  await runTransaction(partition, (tx) => {
    tx.set('key', 'v1', one);
    tx.set('key', 'v2', two);
  });
  await runTransaction(partition, async (tx) => {
    t.equal(await tx.getAsync('other', two), undefined);
    tx.delete('key', one);
    t.equal(await tx.getAsync('key', two), 'v2');
  });
  t.equal(await partition.begin().getAsync('key', two), 'v2');
  t.equal(await partition.begin().getAsync('key', one), undefined);
});

t.test('15. a failed key serialization poisons the transaction', async (t) => {
  const partition = await openPartition(t);
  for (const op of ['set', 'delete'] as const) {
    const tx = partition.begin();
    const bad = Symbol('unserializable');
    t.throws(() => (op === 'set' ? tx.set(bad, 1, PREFIX) : tx.delete(bad, PREFIX)), StateSerializationError);
    t.equal(tx.status, 'FAILED');
    t.ok(tx.failed);
    t.throws(() => tx.set('key', 1, PREFIX), StateTransactionError);
    t.throws(() => tx.get('key', PREFIX), { constructor: StateTransactionError, message: /Invalid transaction status "FAILED"/ });
    t.throws(() => tx.delete('key', PREFIX), StateTransactionError);
    t.throws(() => tx.exists('key', PREFIX), StateTransactionError);
    await t.rejects(tx.getAsync('key', PREFIX), StateTransactionError);
    await t.rejects(tx.prepare(null), StateTransactionError);
    await t.rejects(tx.flush(), StateTransactionError);
    t.notOk(tx.completed);
  }
});

t.test('16. after prepare, set and delete raise StateTransactionError', async (t) => {
  const partition = await openPartition(t);
  const tx = partition.begin();
  await tx.prepare({ topic: 1 });
  t.equal(tx.status, 'PREPARED');
  t.ok(tx.prepared);
  t.throws(() => tx.set('key', 1, PREFIX), StateTransactionError);
  t.throws(() => tx.delete('key', PREFIX), StateTransactionError);
  await t.rejects(tx.prepare(null), StateTransactionError, 'prepare twice');
  await tx.flush();
  t.equal(tx.status, 'COMPLETE');
  await t.rejects(tx.flush(), StateTransactionError, 'flush after complete');
});

t.test('17. an exception in the work block writes nothing', async (t) => {
  const partition = await openPartition(t);
  await t.rejects(
    runTransaction(partition, (tx) => {
      tx.set('key', 'value', PREFIX);
      throw new Error('boom');
    }),
    { message: 'boom' },
  );
  t.equal(await partition.begin().getAsync('key', PREFIX), undefined);
});

t.test('18. a failing partition write fails the transaction', async (t) => {
  const partition = await openPartition(t);
  partition.write = async () => Promise.reject(new Error('disk on fire'));
  const tx = partition.begin();
  tx.set('key', 'value', PREFIX);
  await t.rejects(tx.flush(), { message: 'disk on fire' });
  t.equal(tx.status, 'FAILED');
  t.throws(() => tx.get('key', PREFIX), StateTransactionError);
});

t.test('19. flush stores the changelog offset when given', async (t) => {
  const partition = await openPartition(t);
  const first = partition.begin();
  first.set('key', 'value', PREFIX);
  await first.flush();
  t.equal(first.status, 'COMPLETE');
  t.equal(partition.getChangelogOffset(), undefined);
  const second = partition.begin();
  second.set('key', 'value', PREFIX);
  await second.flush(1);
  t.equal(partition.getChangelogOffset(), 1);
});

t.test('20. a changelog offset lower than the stored one is refused', async (t) => {
  const partition = await openPartition(t);
  const first = partition.begin();
  first.set('key', 'value', PREFIX);
  await first.flush(9999);
  const second = partition.begin();
  second.set('key', 'value2', PREFIX);
  await t.rejects(second.flush(1), {
    constructor: InvalidChangelogOffsetError,
    message: /cannot set changelog offset lower than already saved one/i,
  });
  t.equal(second.status, 'FAILED');
  t.equal(partition.getChangelogOffset(), 9999);
  t.equal(await partition.begin().getAsync('key', PREFIX), 'value');
});

t.test('21. prepare produces one record per key with headers', async (t) => {
  const partition = await openPartition(t, { hasChangelog: true });
  const tx = partition.begin();
  for (const n of [1, 2, 3]) tx.set(`key${n}`, `value${n}`, PREFIX);
  const records = (await tx.prepare({ topic: 1 })).records();
  t.equal(tx.status, 'PREPARED');
  t.equal(records.length, 3);
  records.forEach((record, i) => {
    t.equal(text(record.key), `__key__|"key${i + 1}"`);
    t.equal(text(record.value ?? undefined), `"value${i + 1}"`);
    t.equal(headerValue(record.headers, COLUMN_FAMILY_HEADER), 'default');
    t.equal(headerValue(record.headers, PROCESSED_OFFSETS_HEADER), '{"topic":1}');
  });
});

t.test('22. a delete produces one tombstone', async (t) => {
  const partition = await openPartition(t, { hasChangelog: true });
  const tx = partition.begin();
  tx.delete('key', PREFIX);
  const records = (await tx.prepare({ topic: 1 })).records();
  t.equal(records.length, 1);
  t.equal(records[0]!.value, null);
  t.equal(text(records[0]!.key), '__key__|"key"');
  t.equal(headerValue(records[0]!.headers, COLUMN_FAMILY_HEADER), 'default');
  t.equal(headerValue(records[0]!.headers, PROCESSED_OFFSETS_HEADER), '{"topic":1}');
});

t.test('23. set then delete of one key produces only the tombstone; unknown offsets give "null"', async (t) => {
  const partition = await openPartition(t, { hasChangelog: true });
  const tx = partition.begin();
  tx.set('key', 'value', PREFIX);
  tx.delete('key', PREFIX);
  const records = (await tx.prepare(null)).records();
  t.equal(records.length, 1);
  t.equal(records[0]!.value, null);
  t.equal(headerValue(records[0]!.headers, PROCESSED_OFFSETS_HEADER), 'null');
  const withoutChangelog = await openPartition(t, {}, 'plain');
  const plain = withoutChangelog.begin();
  plain.set('key', 'value', PREFIX);
  t.same((await plain.prepare({ topic: 1 })).records(), [], 'no changelog: no records');
});

t.test('24. cache rules', async (t) => {
  const cache = new TransactionCache();
  t.ok(cache.isEmpty());
  t.equal(cache.get('default', 'p|k'), UNDEFINED, 'missing → UNDEFINED');
  cache.set('default', 1, 'p|k', bytes('v'));
  t.notOk(cache.isEmpty());
  t.same(text(cache.get('default', 'p|k') as Uint8Array), 'v');
  cache.delete('default', 'p|k');
  t.equal(cache.get('default', 'p|k'), DELETED, 'set+delete → DELETED');
  // The original's `{prefix: {}}`: the prefix has no updates left (weir keeps no empty bucket).
  t.same([...cache.prefixUpdates('default', 'p')], [], 'updates of the prefix after set+delete: none');
  t.equal(cache.updates('default').size, 0, 'updates after set+delete: none');
  cache.set('default', 1, 'p|k', bytes('v2'));
  t.equal(cache.deletes('default').size, 0, 'delete then set → deletes empty');
  t.same(
    [...cache.prefixUpdates('default', 'p')].map(([id, u]) => [id, text(u.value as Uint8Array)]),
    [['p|k', 'v2']],
    'the prefix index sees a set made after it was built',
  );
  cache.delete('other', 'q|x');
  cache.set('third', 1, 'r|y', bytes('1'));
  t.same(cache.columnFamilies().sort(), ['default', 'other', 'third'], 'families = updated ∪ deleted');
  const deleteOnly = new TransactionCache();
  deleteOnly.delete('default', 'p|k');
  t.notOk(deleteOnly.isEmpty(), 'a delete makes it non-empty');
});

t.test('25. a custom column family works within and across transactions', async (t) => {
  const partition = await openPartition(t);
  await runTransaction(partition, (tx) => {
    tx.set('key', 'value', PREFIX, 'cf');
    t.equal(tx.get('key', PREFIX, undefined, 'cf'), 'value');
    t.ok(tx.exists('key', PREFIX, 'cf'));
  });
  await runTransaction(partition, async (tx) => {
    t.equal(await tx.getAsync('key', PREFIX, undefined, 'cf'), 'value');
    t.equal(await tx.getAsync('key', PREFIX), undefined, 'not in default');
    tx.delete('key', PREFIX, 'cf');
    t.notOk(tx.exists('key', PREFIX, 'cf'));
  });
  t.notOk(await partition.begin().existsAsync('key', PREFIX, 'cf'));
});

t.test('26. raw bytes keys and values round-trip exactly', async (t) => {
  const partition = await openPartition(t);
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 32 }), fc.uint8Array({ maxLength: 64 }), async (key, value) => {
      await runTransaction(partition, (tx) => tx.setBytes(key, value, NO_PREFIX));
      const read = await partition.begin().getBytesAsync(key, NO_PREFIX);
      return read !== undefined && Buffer.from(read).equals(Buffer.from(value));
    }),
    { numRuns: 50 },
  );
  t.pass('round-trips');
});

t.test('preload: synchronous reads need loaded keys', async (t) => {
  const partition = await openPartition(t);
  await runTransaction(partition, (tx) => {
    tx.set('a', 1, PREFIX);
    tx.set('b', 2, PREFIX);
  });
  const tx = partition.begin();
  const error = (() => {
    try {
      tx.get('a', PREFIX);
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  t.ok(error instanceof StateKeyNotLoadedError);
  t.match((error as Error).message, /"__key__\|\\"a\\""/, 'names the key');
  await tx.preload([joinPrefixedKey(PREFIX, encodeUserKey('a')), joinPrefixedKey(PREFIX, encodeUserKey('missing'))]);
  t.equal(tx.get('a', PREFIX), 1);
  t.equal(tx.get('missing', PREFIX, 'dflt'), 'dflt', 'preloaded absence');
  t.notOk(tx.exists('missing', PREFIX));
  t.throws(() => tx.exists('b', PREFIX), StateKeyNotLoadedError);
  tx.set('c', 3, PREFIX);
  t.equal(tx.get('c', PREFIX), 3, 'written keys need no preload');
  const view = tx.asState(bytes('__key__'));
  const loading = view.preload(['b']);
  t.throws(() => view.get('b'), StateKeyNotLoadedError, 'not readable while its preload is in flight');
  await loading;
  t.equal(view.get('b'), 2);
  await view.preload(['b', 'b']);
  t.equal(view.get('b'), 2, 'preloading again is harmless');
});

t.test('StateView: bound to one message key, JSON keys and values, null is not the default', async (t) => {
  const partition = await openPartition(t, { hasChangelog: true });
  const tx = partition.begin();
  const view = tx.asState('my_key');
  t.equal(text(view.prefix), '"my_key"');
  await view.preload(['count', 'nothing']);
  t.equal(view.get('count', 0), 0);
  view.set('count', 1);
  view.set('nothing', null);
  t.equal(view.get('nothing', 'default'), null, 'stored null reads as null');
  t.ok(view.exists('count'));
  view.setBytes('raw', bytes('{"a":1}'));
  t.same(view.get('raw'), { a: 1 });
  t.equal(text(view.getBytes('count')), '1');
  view.delete('raw');
  t.notOk(view.exists('raw'));
  t.equal(text(view.storedKey('count')), '"my_key"|"count"');
  const records = (await tx.prepare({ t: 1 })).records();
  t.same(records.map((r) => text(r.key)).sort(), ['"my_key"|"count"', '"my_key"|"nothing"', '"my_key"|"raw"']);
  await tx.flush(1);
  const next = partition.begin().asState(bytes('"my_key"'));
  t.equal(await next.getAsync('count'), 1, 'bytes prefix equals its JSON form');
  t.equal(await next.getAsync('nothing', 'default'), null);
  t.equal(text(await next.getBytesAsync('count')), '1');
  t.notOk(await next.existsAsync('raw'));
});

t.test('range reads merge cache and database within a prefix (docs/semantics.md §3.3)', async (t) => {
  const partition = await openPartition(t);
  const prefix = bytes('p');
  const key = (n: number): Uint8Array => appendInteger(prefix, n);
  await runTransaction(partition, (tx) => {
    for (const n of [1, 2, 3, 10]) tx.setBytes(key(n), bytes(`db${n}`), NO_PREFIX);
    tx.setBytes(appendInteger(bytes('q'), 2), bytes('other prefix'), NO_PREFIX);
  });
  const tx = partition.begin();
  // In a transaction the key is the part after `prefix|`.
  tx.setBytes(encodeBE64(2), bytes('cache2'), prefix);
  tx.setBytes(encodeBE64(5), bytes('cache5'), prefix);
  tx.setBytes(encodeBE64(20), bytes('out of range'), prefix);
  tx.delete(encodeBE64(3), prefix);
  const items = await tx.getItems(0, 11, prefix);
  t.same(items.map(([, v]) => text(v)), ['db1', 'cache2', 'cache5', 'db10']);
  const backwards = await tx.getItems(-5, 11, prefix, true);
  t.same(backwards.map(([, v]) => text(v)), ['db10', 'cache5', 'cache2', 'db1']);
  t.same(await tx.getItems(5, 4, prefix), [], 'start > end');
});

t.test('range reads without a prefix merge the cached updates of every prefix (a scan of the family)', async (t) => {
  const partition = await openPartition(t);
  await runTransaction(partition, (tx) => {
    tx.set('kept', 1, bytes('p'));
    tx.set('deleted', 2, bytes('q'));
    tx.set('other family', 3, bytes('p'), 'custom');
  });
  const tx = partition.begin();
  tx.set('new', 4, bytes('r'));
  tx.set('overwritten', 5, bytes('p'));
  tx.delete('deleted', bytes('q'));
  const keys = (entries: [Uint8Array, Uint8Array][]): string[] => entries.map(([k, v]) => `${text(k)}=${text(v)}`);
  t.same(keys(await tx.getRange()), ['p|"kept"=1', 'p|"overwritten"=5', 'r|"new"=4'], 'every prefix, in key order');
  t.same(keys(await tx.getRange({ backwards: true })), ['r|"new"=4', 'p|"overwritten"=5', 'p|"kept"=1'], 'backwards');
  t.same(keys(await tx.getRange({ lower: bytes('p|"l'), upper: bytes('r') })), ['p|"overwritten"=5'], 'bounds apply to cached updates too');
  t.same(keys(await tx.getRange({ cf: 'custom' })), ['p|"other family"=3'], 'one column family');
});

t.test('property: random set/delete/get across transactions and reopenings match a model', async (t) => {
  const dir = t.testdir();
  let round = 0;
  const keyArb = fc.constantFrom('a', 'b', 'c', 'd', 1, 2, [1, 2]);
  const prefixArb = fc.constantFrom('k1', 'k2', 'k3');
  const op = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), prefix: prefixArb, key: keyArb, value: fc.jsonValue({ maxDepth: 2 }) }),
    fc.record({ kind: fc.constant('delete' as const), prefix: prefixArb, key: keyArb }),
    fc.record({ kind: fc.constant('get' as const), prefix: prefixArb, key: keyArb }),
  );
  const step = fc.record({ ops: fc.array(op, { maxLength: 15 }), commit: fc.boolean(), reopen: fc.boolean() });
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
      const path = `${dir}/model-${round++}`;
      const model = new Map<string, unknown>();
      const id = (prefix: string, key: unknown): string => `${prefix}/${JSON.stringify(key)}`;
      let partition = await StorePartition.open(path, { hasChangelog: true });
      let offset = 0;
      try {
        for (const { ops, commit, reopen } of steps) {
          const tx = partition.begin();
          const pending = new Map(model);
          for (const o of ops) {
            const view = tx.asState(o.prefix);
            if (o.kind === 'set') {
              view.set(o.key, o.value);
              pending.set(id(o.prefix, o.key), JSON.parse(JSON.stringify(o.value)));
            } else if (o.kind === 'delete') {
              view.delete(o.key);
              pending.delete(id(o.prefix, o.key));
            } else {
              const expected = pending.has(id(o.prefix, o.key)) ? pending.get(id(o.prefix, o.key)) : 'MISSING';
              if (JSON.stringify(await view.getAsync(o.key, 'MISSING')) !== JSON.stringify(expected)) return false;
              if (JSON.stringify(view.get(o.key, 'MISSING')) !== JSON.stringify(expected)) return false;
            }
          }
          if (commit) {
            await tx.prepare({ t: offset });
            await tx.flush(++offset);
            for (const k of [...model.keys()]) model.delete(k);
            for (const [k, v] of pending) model.set(k, v);
          }
          if (reopen) {
            await partition.close();
            partition = await StorePartition.open(path, { hasChangelog: true });
          }
        }
        const check = partition.begin();
        for (const prefix of ['k1', 'k2', 'k3']) {
          for (const key of ['a', 'b', 'c', 'd', 1, 2, [1, 2]]) {
            const expected = model.has(id(prefix, key)) ? model.get(id(prefix, key)) : 'MISSING';
            const actual = await check.asState(prefix).getAsync(key, 'MISSING');
            if (JSON.stringify(actual) !== JSON.stringify(expected)) return false;
          }
        }
        return true;
      } finally {
        await partition.close();
      }
    }),
    { numRuns: 40 },
  );
  t.pass('model holds');
});

t.test('flush without prepare persists the changes; encodeJson is the value format', async (t) => {
  const partition = await openPartition(t);
  const tx = partition.begin();
  tx.set('k', { n: 1 }, PREFIX);
  await tx.flush();
  t.same(await partition.get(joinPrefixedKey(PREFIX, encodeUserKey('k'))), encodeJson({ n: 1 }));
});

t.test('JSON scalars are cached as themselves and encoded at the checkpoint', async (t) => {
  const partition = await openPartition(t, { hasChangelog: true });
  const tx = partition.begin();
  tx.set('n', 41, PREFIX);
  tx.set('n', 42, PREFIX);
  tx.set('zero', -0, PREFIX);
  tx.set('s', 'text "quoted" ✓', PREFIX);
  tx.set('b', false, PREFIX);
  tx.set('o', { n: 1 }, PREFIX);
  t.equal(tx.get('n', PREFIX), 42, 'the last write wins');
  t.ok(Object.is(tx.get('zero', PREFIX), 0), '-0 reads back as 0, as its JSON does');
  t.equal(tx.get('s', PREFIX), 'text "quoted" ✓');
  t.equal(tx.get('b', PREFIX), false);
  t.same(tx.getBytes('n', PREFIX), encodeJson(42), 'getBytes gives the JSON bytes of a cached scalar');
  t.throws(() => tx.set('bad', Number.NaN, PREFIX), StateSerializationError, 'a non-finite number fails its write');
  t.equal(tx.status, 'FAILED');

  const ok = partition.begin();
  for (const [key, value] of [['n', 42], ['s', 'x'], ['b', true]] as const) ok.set(key, value, PREFIX);
  const records = (await ok.prepare(null)).records();
  const byKey = new Map(records.map((r) => [text(r.key), r.value]));
  t.same(byKey.get(text(joinPrefixedKey(PREFIX, encodeUserKey('n')))), encodeJson(42), 'the changelog carries JSON bytes');
  t.same(byKey.get(text(joinPrefixedKey(PREFIX, encodeUserKey('s')))), encodeJson('x'));
  await ok.flush(0);
  t.same(await partition.get(joinPrefixedKey(PREFIX, encodeUserKey('b'))), encodeJson(true), 'the flush writes JSON bytes');
  t.equal(await partition.begin().getAsync('n', PREFIX), 42);
});

t.test('a savepoint rolls back to a value updated in place before it', async (t) => {
  const cache = new TransactionCache();
  cache.set('default', 1, 'p|k', 1);
  cache.set('default', 1, 'p|k', 2); // in place: no savepoint
  cache.setSavepoint();
  cache.set('default', 1, 'p|k', 3);
  t.equal(cache.get('default', 'p|k'), 3);
  cache.rollbackToSavepoint();
  t.equal(cache.get('default', 'p|k'), 2, 'the value before the savepoint');
  cache.set('default', 1, 'p|k', 4);
  t.equal(cache.get('default', 'p|k'), 4, 'kept as itself: the changelog and the flush encode it where they read it');
});

t.test('property: any JSON value reads back as its JSON round trip, before and after the flush', async (t) => {
  const dir = t.testdir();
  let round = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.jsonValue()), { minLength: 1, maxLength: 12 }), async (writes) => {
      const partition = await StorePartition.open(`${dir}/json-${round++}`, {});
      try {
        const expected = new Map<string, unknown>();
        const tx = partition.begin();
        for (const [key, value] of writes) {
          tx.set(key, value, PREFIX);
          expected.set(key, JSON.parse(JSON.stringify(value)));
        }
        for (const [key, value] of expected) if (JSON.stringify(tx.get(key, PREFIX)) !== JSON.stringify(value)) return false;
        await tx.flush();
        const after = partition.begin();
        for (const [key, value] of expected) if (JSON.stringify(await after.getAsync(key, PREFIX)) !== JSON.stringify(value)) return false;
        return true;
      } finally {
        await partition.close();
      }
    }),
    { numRuns: 40 },
  );
  t.pass('round trip holds');
});

t.test('property: a cache never reports fewer held bytes than its keys and values hold', async (t) => {
  const value = fc.oneof(fc.integer(), fc.string({ maxLength: 40 }), fc.boolean(), fc.uint8Array({ maxLength: 64 }));
  const op = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 20 }), prefixLength: fc.integer({ min: 1, max: 2 }), value }),
    fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 20 }) }),
    fc.record({ kind: fc.constantFrom('savepoint' as const, 'release' as const, 'rollback' as const) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const cache = new TransactionCache();
      for (const o of ops) {
        if (o.kind === 'set') cache.set('default', o.prefixLength, `p|key-${o.key}`, o.value);
        else if (o.kind === 'delete') cache.delete('default', `p|key-${o.key}`);
        else if (o.kind === 'savepoint') cache.setSavepoint();
        else if (o.kind === 'release') cache.releaseSavepoint();
        else cache.rollbackToSavepoint();
      }
      let held = 0;
      for (const [id, update] of cache.updates('default')) held += id.length + cachedValueSize(update.value);
      for (const id of cache.deletes('default')) held += id.length;
      return cache.heldBytes >= held;
    }),
  );
  const cache = new TransactionCache();
  for (let i = 0; i < 1000; i++) cache.set('default', 1, `p|key-${i}`, i);
  const thousand = cache.heldBytes;
  for (let i = 0; i < 1000; i++) cache.set('default', 1, `p|key-${i}`, i + 1);
  t.equal(cache.heldBytes, thousand, 'a key written again in place adds nothing');
  t.ok(thousand >= 1000 * 64, `each key costs its overhead too (${thousand} bytes)`);
});

t.test("a transaction's held bytes count its preloaded reads and its writes", async (t) => {
  const partition = await openPartition(t);
  await runTransaction(partition, (tx) => {
    for (let i = 0; i < 100; i++) tx.set(`k${i}`, 'x'.repeat(100), PREFIX);
  });
  const tx = partition.begin();
  t.equal(tx.heldBytes, 0, 'a new transaction holds nothing');
  await tx.preload(Array.from({ length: 100 }, (_, i) => joinPrefixedKey(PREFIX, encodeUserKey(`k${i}`))));
  const afterReads = tx.heldBytes;
  t.ok(afterReads >= 100 * 100, `100 reads of ~100-byte values (${afterReads} bytes)`);
  await tx.preload([joinPrefixedKey(PREFIX, encodeUserKey('k0'))]);
  t.equal(tx.heldBytes, afterReads, 'a key already read is not counted again');
  for (let i = 0; i < 100; i++) tx.set(`new${i}`, i, PREFIX);
  t.ok(tx.heldBytes >= afterReads + 100 * 64, `writes add to it (${tx.heldBytes} bytes)`);
});
