import t, { type Test } from 'tap';
import {
  collect,
  count,
  hoppingWindow,
  max,
  mean,
  min,
  reduce,
  sum,
  tumblingWindow,
  windowStoreName,
  earliest,
  latest,
  first,
  last,
} from '../../shared/pipeline/windows.js';
import { windowRanges } from '../../workers/windows/index.js';
import { OperatorHarness } from './fixtures/operator-harness.js';

t.setTimeout(120_000);
const toList = reduce<number, number[]>((acc, v) => [...acc, v], (v) => [v]);

t.test('83. window ranges', async (t) => {
  t.same(windowRanges(100, 10), [[100, 110]]);
  t.same(windowRanges(110, 10), [[110, 120]]);
  t.same(windowRanges(1, 20), [[0, 20]]);
  t.same(windowRanges(100, 30, 10), [[80, 110], [90, 120], [100, 130]]);
  t.same(windowRanges(50, 30, 10), [[30, 60], [40, 70], [50, 80]]);
  t.same(windowRanges(75, 20, 20), [[60, 80]]);
  t.same(windowRanges(100, 60), [[60, 120]]);
  t.same(windowRanges(100, 60, 0), [[60, 120]], 'step 0 is tumbling');
  t.same(windowRanges(5, 30, 10), [[0, 30]], 'no negative starts');
  t.same(windowRanges(0, 10, 5), [[0, 10]]);
  t.same(windowRanges(9, 10, 5), [[0, 10], [5, 15]]);
});

for (const closeBy of ['key', 'partition'] as const) {
  t.test(`84. tumbling sum, grace 0, ${closeBy} closing`, async (t) => {
    const h = await OperatorHarness.open(t, tumblingWindow({ durationMs: 10, aggregate: sum(), closeBy }));
    t.same(await h.process('k', 1, 100), { updated: [{ key: 'k', start: 100, end: 110, value: 1 }], expired: [] });
    t.same(await h.process('k', 2, 110), {
      updated: [{ key: 'k', start: 110, end: 120, value: 2 }],
      expired: [{ key: 'k', start: 100, end: 110, value: 1 }],
    });
  });
}

t.test('85. aggregations and store names', async (t) => {
  const cases: [string, Parameters<typeof tumblingWindow<number>>[0]['aggregate'], unknown][] = [
    ['count', count(), 2],
    ['sum', sum(), 3],
    ['mean', mean(), 1.5],
    ['reduce', toList, [2, 1]],
    ['max', max(), 2],
    ['min', min(), 1],
    ['earliest', earliest(), 2],
    ['latest', latest(), 1],
    ['first', first(), 2],
    ['last', last(), 1],
  ];
  for (const [func, aggregate, expected] of cases) {
    const declaration = tumblingWindow<number>({ durationMs: 10, graceMs: 5, aggregate });
    t.equal(windowStoreName('', declaration as never).replace(/^_/, ''), `tumbling_window_10_${func}`);
    const h = await OperatorHarness.open(t, declaration as never, func);
    await h.process('k', 2, 100);
    const out = await h.process('k', 1, 100);
    t.same(out.updated, [{ key: 'k', start: 100, end: 110, value: expected }], func);
    t.same(out.expired, []);
    await h.partition.close();
  }
});

t.test('several aggregations at once, stored per column', async (t) => {
  const h = await OperatorHarness.open(
    t,
    tumblingWindow<{ v: number }>({ durationMs: 10, aggregate: { n: count(), avg: mean((r) => r.v), hi: max((r) => r.v) } }) as never,
  );
  await h.process('k', { v: 4 }, 1);
  const out = await h.process('k', { v: 2 }, 2);
  t.same(out.updated, [{ key: 'k', start: 0, end: 10, n: 2, avg: 3, hi: 4 }]);
  t.same(await h.windows('k'), [[0, 10, { 'n/Count': 2, 'avg/Mean': [6, 2], 'hi/Max': 4 }]]);
  t.equal(h.operator.storeName, 'w_tumbling_window_10');
});

t.test('86. tumbling collect emits the collected values once closed', async (t) => {
  const h = await OperatorHarness.open(t, tumblingWindow({ durationMs: 10, graceMs: 5, aggregate: collect() }) as never);
  await h.process('k', 1, 100);
  await h.process('k', 2, 100);
  await h.process('k', 3, 101);
  t.same(await h.process('k', 4, 200), { updated: [], expired: [{ key: 'k', start: 100, end: 110, value: [1, 2, 3] }] });
  t.same(await h.collection('k'), [4], 'collected values of closed windows deleted');
});

t.test('87. after-update trigger closes the window with the value', async (t) => {
  const h = await OperatorHarness.open(t, tumblingWindow<number>({ durationMs: 100, aggregate: sum(), afterUpdate: (agg) => (agg as number) >= 9 }) as never);
  t.same((await h.process('k', 2, 50)).updated, [{ key: 'k', start: 0, end: 100, value: 2 }]);
  t.same((await h.process('k', 2, 60)).updated, [{ key: 'k', start: 0, end: 100, value: 4 }]);
  t.same(await h.process('k', 5, 70), { updated: [], expired: [{ key: 'k', start: 0, end: 100, value: 9 }] });
  t.same((await h.process('k', 3, 80)).updated, [{ key: 'k', start: 0, end: 100, value: 3 }]);
});

t.test('88. before-update trigger closes the window without the value, which opens the next one', async (t) => {
  const h = await OperatorHarness.open(
    t,
    tumblingWindow<number>({ durationMs: 100, aggregate: sum(), beforeUpdate: (agg, v) => (agg as number) + v > 10 }) as never,
  );
  await h.process('k', 3, 50);
  t.same((await h.process('k', 5, 60)).updated, [{ key: 'k', start: 0, end: 100, value: 8 }]);
  t.same(await h.process('k', 3, 70), {
    updated: [{ key: 'k', start: 0, end: 100, value: 3 }],
    expired: [{ key: 'k', start: 0, end: 100, value: 8 }],
  });
  t.same((await h.process('k', 2, 80)).updated, [{ key: 'k', start: 0, end: 100, value: 5 }]);
});

t.test('trigger with a collector sees the collected list', async (t) => {
  const h = await OperatorHarness.open(
    t,
    tumblingWindow<number>({ durationMs: 100, aggregate: collect(), afterUpdate: (list) => (list as number[]).length >= 3 }) as never,
  );
  await h.process('k', 'a', 1);
  await h.process('k', 'b', 2);
  t.same((await h.process('k', 'c', 3)).expired, [{ key: 'k', start: 0, end: 100, value: ['a', 'b', 'c'] }]);
});

const partitionScenario = async (t: Test, declaration: never): Promise<void> => {
  const h = await OperatorHarness.open(t, declaration);
  await h.process('key1', 1, 100);
  await h.process('key1', 3, 105);
  await h.process('key2', 5, 102);
  await h.process('key2', 7, 108);
  const a = await h.process('key1', 2, 110);
  t.same(a.updated.filter((u) => u.start === 110), [{ key: 'key1', start: 110, end: 120, value: 2 }]);
  t.same(a.expired, []);
  const b = await h.process('key2', 2, 109);
  t.same(b.updated.filter((u) => u.start === 100), [{ key: 'key2', start: 100, end: 110, value: 14 }], 'accepted within grace');
  const c = await h.process('key1', 2, 112);
  t.same(c.updated.filter((u) => u.start === 110), [{ key: 'key1', start: 110, end: 120, value: 4 }]);
  t.same(c.expired.filter((e) => e.start === 100), [
    { key: 'key1', start: 100, end: 110, value: 4 },
    { key: 'key2', start: 100, end: 110, value: 14 },
  ]);
};

t.test('89. partition closing strategy, grace 2', (t) => partitionScenario(t, tumblingWindow({ durationMs: 10, graceMs: 2, aggregate: sum(), closeBy: 'partition' }) as never));
t.test('91b. hopping partition closing strategy, grace 2', (t) =>
  partitionScenario(t, hoppingWindow({ durationMs: 10, stepMs: 5, graceMs: 2, aggregate: sum(), closeBy: 'partition' }) as never),
);

t.test('90. switching key → partition strategy', async (t) => {
  const dir = t.testdir();
  const { StorePartition } = await import('../../workers/state/index.js');
  const { join } = await import('node:path');
  const partition = await StorePartition.open(join(dir, 'db'));
  t.teardown(() => partition.close());
  const byKey = new OperatorHarness(partition, tumblingWindow({ durationMs: 10, aggregate: sum() }) as never);
  await byKey.process('key1', 1, 100);
  await byKey.process('key1', 1, 106);
  await byKey.process('key2', 1, 102);
  await byKey.process('key2', 1, 105);
  const byPartition = new OperatorHarness(partition, tumblingWindow({ durationMs: 10, aggregate: sum(), closeBy: 'partition' }) as never);
  t.same((await byPartition.process('key1', 1, 107)).expired, []);
  t.same((await byPartition.process('key2', 1, 108)).expired, []);
  t.same(await byPartition.process('key3', 1, 115), {
    updated: [{ key: 'key3', start: 110, end: 120, value: 1 }],
    expired: [
      { key: 'key1', start: 100, end: 110, value: 3 },
      { key: 'key2', start: 100, end: 110, value: 3 },
    ],
  });
});

t.test('90. switching partition → key strategy', async (t) => {
  const { StorePartition } = await import('../../workers/state/index.js');
  const { join } = await import('node:path');
  const partition = await StorePartition.open(join(t.testdir(), 'db'));
  t.teardown(() => partition.close());
  const byPartition = new OperatorHarness(partition, tumblingWindow({ durationMs: 10, aggregate: sum(), closeBy: 'partition' }) as never);
  await byPartition.process('key1', 1, 100);
  await byPartition.process('key1', 1, 106);
  await byPartition.process('key2', 1, 102);
  await byPartition.process('key2', 1, 105);
  await byPartition.process('key1', 1, 107);
  await byPartition.process('key2', 1, 108);
  const byKey = new OperatorHarness(partition, tumblingWindow({ durationMs: 10, aggregate: sum() }) as never);
  t.same((await byKey.process('key3', 1, 115)).expired, []);
  t.same(await byKey.process('key1', 1, 116), {
    updated: [{ key: 'key1', start: 110, end: 120, value: 1 }],
    expired: [{ key: 'key1', start: 100, end: 110, value: 3 }],
  });
});

t.test('91. hopping D=10 S=5 G=0', async (t) => {
  const h = await OperatorHarness.open(t, hoppingWindow({ durationMs: 10, stepMs: 5, aggregate: sum() }) as never);
  t.same((await h.process('k', 1, 100)).updated, [
    { key: 'k', start: 95, end: 105, value: 1 },
    { key: 'k', start: 100, end: 110, value: 1 },
  ]);
  t.same((await h.process('k', 2, 110)).expired, [
    { key: 'k', start: 95, end: 105, value: 1 },
    { key: 'k', start: 100, end: 110, value: 1 },
  ]);
});

t.test('late records: callback, default warning, late_by', async (t) => {
  const late: unknown[] = [];
  const h = await OperatorHarness.open(
    t,
    tumblingWindow<number>({
      durationMs: 10,
      graceMs: 5,
      aggregate: sum(),
      onLate: (r) => {
        late.push([r.timestamp, r.lateByMs, r.start, r.end, r.store]);
        return r.timestamp === 1;
      },
    }) as never,
  );
  await h.process('k', 1, 100);
  t.same(await h.process('k', 1, 80), { updated: [], expired: [] });
  t.same(late, [[80, 15, 80, 90, 'w_tumbling_window_10_sum']]);
  t.equal(h.warnings.length, 0, 'callback returned false: no warning');
  await h.process('k', 1, 1);
  t.equal(h.warnings.length, 1, 'callback returned true: warning');
  const plain = await OperatorHarness.open(t, tumblingWindow({ durationMs: 10, aggregate: sum() }) as never, 'plain');
  await plain.process('k', 1, 100);
  await plain.process('k', 1, 50);
  t.match(plain.warnings[0], /Skipping window processing for the closed window \[50, 60\)/);
});

t.test('decision: partition strategy expires non-aligned hopping ends and never re-creates expired windows', async (t) => {
  // D=10, S=4: ends are 10, 14, 18, 22...; none is a multiple of the step.
  const h = await OperatorHarness.open(t, hoppingWindow({ durationMs: 10, stepMs: 4, graceMs: 3, aggregate: count(), closeBy: 'partition' }) as never);
  await h.process('a', 1, 5); // windows [0,10), [4,14)
  await h.process('b', 1, 13); // clock 13 → expires ends <= 10
  const out = await h.process('b', 1, 17); // clock 17 → expires ends <= 14
  t.same(out.expired.map((e) => [e.key, e.start, e.end]), [['a', 4, 14], ['b', 4, 14]]);
  // A record within grace of the clock but in a window already expired is late.
  const again = await h.process('a', 1, 13);
  t.same(again.updated.map((u) => [u.start, u.end]), [[8, 18], [12, 22]]);
  t.same(again.expired, []);
  t.equal(h.warnings.length, 1, 'the expired window [4,14) is reported late, not re-created');
});
