import t from 'tap';
import {
  collect,
  hoppingCountWindow,
  hoppingWindow,
  InvalidWindowDefinitionError,
  reduce,
  sessionWindow,
  slidingCountWindow,
  slidingWindow,
  sum,
  tumblingCountWindow,
  tumblingWindow,
  windowStoreName,
} from '../../shared/pipeline/windows.js';
import { OperatorHarness } from './fixtures/operator-harness.js';

t.setTimeout(120_000);
const toList = reduce<string, string[]>((acc, v) => [...acc, v], (v) => [v]);

t.test('92. sliding windows: right window creation and out-of-order record', async (t) => {
  const h = await OperatorHarness.open(t, slidingWindow({ durationMs: 10, aggregate: toList }) as never);
  t.same(await h.process('k', 'A', 22), { updated: [{ key: 'k', start: 12, end: 22, value: ['A'] }], expired: [] });
  t.same(await h.process('k', 'B', 23), {
    updated: [{ key: 'k', start: 13, end: 23, value: ['A', 'B'] }],
    expired: [{ key: 'k', start: 12, end: 22, value: ['A'] }],
  });
  t.same((await h.windows('k')).find((w) => w[0] === 23), [23, 33, [23, { v: ['B'] }]], 'right window stored');
  const c = await h.process('k', 'C', 22);
  t.same(c.updated, [{ key: 'k', start: 13, end: 23, value: ['A', 'B', 'C'] }]);
  t.same((await h.windows('k')).find((w) => w[0] === 12), [12, 22, [22, { v: ['A'] }]], 'expired left window unchanged');
});

t.test('93. sliding windows: late records are ignored', async (t) => {
  const h = await OperatorHarness.open(t, slidingWindow({ durationMs: 10, aggregate: toList }) as never);
  t.same((await h.process('k', 'A', 1)).updated, [{ key: 'k', start: 0, end: 1, value: ['A'] }]);
  t.same(await h.process('k', 'B', 20), {
    updated: [{ key: 'k', start: 10, end: 20, value: ['B'] }],
    expired: [{ key: 'k', start: 0, end: 1, value: ['A'] }],
  });
  const before = await h.windows('k');
  t.same(await h.process('k', 'C', 5), { updated: [], expired: [] });
  t.same(await h.process('k', 'C', 9), { updated: [], expired: [] });
  t.same(await h.windows('k'), before, 'state unchanged');
  t.equal(h.warnings.length, 2);
});

t.test('94. sliding windows: right window of an earlier record', async (t) => {
  const h = await OperatorHarness.open(t, slidingWindow({ durationMs: 10, graceMs: 15, aggregate: toList }) as never);
  t.same((await h.process('k', 'A', 23)).updated, [{ key: 'k', start: 13, end: 23, value: ['A'] }]);
  t.same((await h.process('k', 'B', 20)).updated, [
    { key: 'k', start: 10, end: 20, value: ['B'] },
    { key: 'k', start: 13, end: 23, value: ['A', 'B'] },
  ]);
  t.same((await h.windows('k')).find((w) => w[0] === 21), [21, 31, [23, { v: ['A'] }]], 'right window stored, not emitted');
  const small = await OperatorHarness.open(t, slidingWindow({ durationMs: 10, graceMs: 15, aggregate: toList }) as never, 'small');
  t.same((await small.process('k', 'A', 3)).updated, [{ key: 'k', start: 0, end: 3, value: ['A'] }], 'no negative start');
});

t.test('95. sliding windows with collect: expiry and deletion', async (t) => {
  const h = await OperatorHarness.open(t, slidingWindow({ durationMs: 10, graceMs: 5, aggregate: collect() }) as never);
  await h.process('k', 'A', 11);
  await h.process('k', 'B', 12);
  const c = await h.process('k', 'C', 21);
  t.same(c.expired, [
    { key: 'k', start: 1, end: 11, value: ['A'] },
    { key: 'k', start: 2, end: 12, value: ['A', 'B'] },
  ]);
  t.notOk((await h.windows('k')).some((w) => w[0] === 1), '[1,11] deleted');
  const d = await h.process('k', 'D', 60);
  t.same(d.expired, [{ key: 'k', start: 11, end: 21, value: ['A', 'B', 'C'] }]);
  t.same((await h.windows('k')).map((w) => [w[0], w[1]]), [[50, 60]]);
  t.same(await h.collection('k'), ['D']);
});

t.test('96. tumbling count window sum', async (t) => {
  const h = await OperatorHarness.open(t, tumblingCountWindow({ count: 2, aggregate: sum() }) as never);
  t.same(await h.process('k', 1, 100), { updated: [{ key: 'k', start: 100, end: 100, value: 1 }], expired: [] });
  t.same(await h.process('k', 2, 110), {
    updated: [{ key: 'k', start: 100, end: 110, value: 3 }],
    expired: [{ key: 'k', start: 100, end: 110, value: 3 }],
  });
  t.equal(h.operator.storeName, 'w_tumbling_count_window_sum');
});

t.test('97. tumbling count window collect', async (t) => {
  const h = await OperatorHarness.open(t, tumblingCountWindow({ count: 3, aggregate: collect() }) as never);
  await h.process('k', 1, 100);
  await h.process('k', 2, 100);
  t.same((await h.process('k', 3, 101)).expired, [{ key: 'k', start: 100, end: 101, value: [1, 2, 3] }]);
  t.same(await h.collection('k'), []);
});

t.test('98. hopping count window collect', async (t) => {
  const h = await OperatorHarness.open(t, hoppingCountWindow({ count: 5, step: 2, aggregate: collect() }) as never);
  const expired: unknown[] = [];
  for (let v = 1; v <= 11; v++) {
    for (const e of (await h.process('k', v, v)).expired) expired.push([v, e.value]);
  }
  t.same(expired, [
    [5, [1, 2, 3, 4, 5]],
    [7, [3, 4, 5, 6, 7]],
    [9, [5, 6, 7, 8, 9]],
    [11, [7, 8, 9, 10, 11]],
  ]);
  t.same(await h.collection('k'), [9, 10, 11]);
  t.equal(h.operator.storeName, 'w_hopping_count_window_collect');
});

t.test('sliding count window = hopping with step 1', async (t) => {
  const h = await OperatorHarness.open(t, slidingCountWindow({ count: 3, aggregate: sum() }) as never);
  const closed: unknown[] = [];
  for (let v = 1; v <= 5; v++) for (const e of (await h.process('k', v, v * 10)).expired) closed.push([e.start, e.end, e.value]);
  t.same(closed, [
    [10, 30, 6],
    [20, 40, 9],
    [30, 50, 12],
  ]);
  t.equal(h.operator.storeName, 'w_sliding_count_window_sum');
});

t.test('99. definition validation', async (t) => {
  const bad: [string, () => unknown, RegExp][] = [
    ['negative duration', () => tumblingWindow({ durationMs: -1, aggregate: sum() }), /durationMs/],
    ['negative grace', () => tumblingWindow({ durationMs: 10, graceMs: -1, aggregate: sum() }), /graceMs/],
    ['step ≥ duration', () => hoppingWindow({ durationMs: 10, stepMs: 10, aggregate: sum() }), /stepMs/],
    ['step ≤ 0', () => hoppingWindow({ durationMs: 10, stepMs: 0, aggregate: sum() }), /stepMs/],
    ['count < 2', () => tumblingCountWindow({ count: 1, aggregate: sum() }), /Window count must be greater than 1/],
    ['count step < 1', () => hoppingCountWindow({ count: 3, step: 0, aggregate: sum() }), /step/],
    ['sliding triggers', () => slidingWindow({ durationMs: 10, aggregate: sum(), ...{ afterUpdate: () => true } }), /triggers/],
    ['current with collect', () => tumblingWindow({ durationMs: 10, aggregate: collect(), emit: 'current' }), /emit/],
    ['reserved column', () => tumblingWindow({ durationMs: 10, aggregate: { start: sum() } }), /reserved/],
    ['reduce without merge in sessions', () => sessionWindow({ inactivityGapMs: 10, aggregate: toList }), /merge/],
    ['no aggregation', () => tumblingWindow({ durationMs: 10, aggregate: {} }), /aggregate/],
  ];
  for (const [name, make, message] of bad) t.throws(make, { name: 'InvalidWindowDefinitionError', message }, name);
  t.ok(new InvalidWindowDefinitionError('w', 'f', 'r').code === 'INVALID_WINDOW_DEFINITION');
  t.equal(windowStoreName('avg', hoppingWindow({ durationMs: 30000, stepMs: 5000, aggregate: { a: sum() } }) as never), 'avg_hopping_window_30000_5000');
});
