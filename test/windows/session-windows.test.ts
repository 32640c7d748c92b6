import t from 'tap';
import { collect, count, reduce, sessionWindow, sum } from '../../shared/pipeline/windows.js';
import { OperatorHarness } from './fixtures/operator-harness.js';

t.setTimeout(120_000);

const session = (graceMs = 0) => sessionWindow({ inactivityGapMs: 10, graceMs, aggregate: { n: count(), total: sum() } }) as never;

t.test('records within the gap form one session; a longer gap closes it', async (t) => {
  const h = await OperatorHarness.open(t, session());
  t.same((await h.process('k', 1, 100)).updated, [{ key: 'k', start: 100, end: 100, n: 1, total: 1 }]);
  t.same((await h.process('k', 2, 110)).updated, [{ key: 'k', start: 100, end: 110, n: 2, total: 3 }], 'gap is inclusive');
  t.same((await h.process('k', 3, 120)).expired, []);
  const out = await h.process('k', 4, 131);
  t.same(out.updated, [{ key: 'k', start: 131, end: 131, n: 1, total: 4 }]);
  t.same(out.expired, [{ key: 'k', start: 100, end: 120, n: 3, total: 6 }]);
  t.same((await h.windows('k')).map((w) => [w[0], w[1]]), [[131, 132]], 'closed session deleted');
  t.equal(h.operator.storeName, 'w_session_window_10');
});

t.test('a record bridging two sessions merges them', async (t) => {
  const h = await OperatorHarness.open(t, session(100));
  await h.process('k', 1, 100);
  await h.process('k', 2, 118);
  t.equal((await h.windows('k')).length, 2, 'two sessions');
  const out = await h.process('k', 10, 109);
  t.same(out.updated, [{ key: 'k', start: 100, end: 118, n: 3, total: 13 }]);
  t.same((await h.windows('k')).map((w) => [w[0], w[1]]), [[100, 119]]);
});

t.test('grace keeps a session open for out-of-order records; later ones are late', async (t) => {
  const late: number[] = [];
  const h = await OperatorHarness.open(
    t,
    sessionWindow({ inactivityGapMs: 10, graceMs: 15, aggregate: sum(), onLate: (r) => void late.push(r.timestamp) }) as never,
  );
  await h.process('k', 1, 100);
  t.same((await h.process('k', 1, 120)).expired, [], 'a new session; the first still within grace');
  t.same((await h.process('k', 5, 104)).updated, [{ key: 'k', start: 100, end: 104, value: 6 }], 'out of order, joins');
  const closing = await h.process('k', 1, 130);
  t.same(closing.expired, [{ key: 'k', start: 100, end: 104, value: 6 }]);
  t.same(await h.process('k', 1, 95), { updated: [], expired: [] }, 'late: its session would be closed');
  t.same(late, [95]);
  t.same((await h.process('k', 1, 118)).updated, [{ key: 'k', start: 118, end: 130, value: 3 }], 'joins the open session');
});

t.test('keys have independent sessions', async (t) => {
  const h = await OperatorHarness.open(t, session());
  await h.process('a', 1, 100);
  await h.process('b', 1, 200);
  t.same((await h.process('a', 1, 105)).updated, [{ key: 'a', start: 100, end: 105, n: 2, total: 2 }]);
});

t.test('collect in sessions, including merged ones', async (t) => {
  const h = await OperatorHarness.open(t, sessionWindow({ inactivityGapMs: 10, graceMs: 50, aggregate: collect() }) as never);
  await h.process('k', 'a', 100);
  await h.process('k', 'c', 120);
  await h.process('k', 'b', 110);
  const out = await h.process('k', 'd', 200);
  t.same(out.expired, [{ key: 'k', start: 100, end: 120, value: ['a', 'b', 'c'] }]);
  t.same(await h.collection('k'), ['d'], 'values of the closed session deleted');
});

t.test('reduce with merge in sessions', async (t) => {
  const h = await OperatorHarness.open(
    t,
    sessionWindow({
      inactivityGapMs: 10,
      graceMs: 50,
      aggregate: reduce<string, string>((a, v) => a + v, (v) => v, (a, b) => a + b),
    }) as never,
  );
  await h.process('k', 'x', 100);
  await h.process('k', 'z', 120);
  t.same((await h.process('k', 'y', 110)).updated, [{ key: 'k', start: 100, end: 120, value: 'xzy' }]);
});
