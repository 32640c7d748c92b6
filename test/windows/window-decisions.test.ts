/**
 * Issue 15: closing every window at the end of input, session lateness, collect()
 * order, hopping count windows with step ≥ count, and triggers with collect / the clock.
 */
import t from 'tap';
import {
  collect,
  count,
  hoppingCountWindow,
  hoppingWindow,
  InvalidWindowDefinitionError,
  sessionWindow,
  slidingWindow,
  sum,
  tumblingCountWindow,
  tumblingWindow,
  type LateRecord,
} from '../../shared/pipeline/windows.js';
import { encodeJson } from '../../shared/codecs/index.js';
import { WindowedTransaction, TRIGGER_MARKS_CF } from '../../workers/state/index.js';
import { OperatorHarness, type Produced } from './fixtures/operator-harness.js';

t.setTimeout(120_000);

/** Records the late reports of a window as `[timestamp, start, end, lateByMs]`. */
function lateLog(): { reports: [number, number, number, number][]; onLate: (late: LateRecord<unknown>) => boolean } {
  const reports: [number, number, number, number][] = [];
  return { reports, onLate: (late) => (reports.push([late.timestamp, late.start, late.end, late.lateByMs]), false) };
}

t.test('closeAll: tumbling windows closed by key emit every open window; a closed window is not re-opened', async (t) => {
  const late = lateLog();
  const h = await OperatorHarness.open(t, tumblingWindow({ durationMs: 10, graceMs: 5, aggregate: sum(), onLate: late.onLate }) as never);
  await h.process('a', 1, 3);
  await h.process('a', 2, 12);
  await h.process('b', 4, 7);
  t.same(await h.closeAll(), [
    { key: 'a', start: 0, end: 10, value: 1 },
    { key: 'a', start: 10, end: 20, value: 2 },
    { key: 'b', start: 0, end: 10, value: 4 },
  ]);
  t.same(await h.windows('a'), [], 'nothing left open');
  t.same(await h.closeAll(), [], 'closing again closes nothing');
  // a's clock moved to 20 + grace: [10, 20) is closed, [20, 30) opens as usual.
  t.same(await h.process('a', 5, 19), { updated: [], expired: [] });
  t.same(late.reports, [[19, 10, 20, 1]]);
  t.same((await h.process('a', 6, 21)).updated, [{ key: 'a', start: 20, end: 30, value: 6 }]);
  t.same((await h.process('b', 7, 9)).updated, [], 'b closed [0, 10) too');
  t.same((await h.process('b', 8, 10)).updated, [{ key: 'b', start: 10, end: 20, value: 8 }]);
});

t.test('closeAll: hopping windows closed by partition; collected values are listed and dropped', async (t) => {
  const h = await OperatorHarness.open(
    t,
    hoppingWindow({ durationMs: 10, stepMs: 5, graceMs: 2, aggregate: collect(), closeBy: 'partition', onLate: () => false }) as never,
  );
  await h.process('a', 'x', 6);
  await h.process('b', 'y', 8);
  await h.process('a', 'z', 4);
  t.same(await h.closeAll(), [
    { key: 'a', start: 0, end: 10, value: ['z', 'x'] },
    { key: 'a', start: 5, end: 15, value: ['x'] },
    { key: 'b', start: 0, end: 10, value: ['y'] },
    { key: 'b', start: 5, end: 15, value: ['y'] },
  ], 'in key order, like every partition-wide expiry');
  t.same(await h.collection('a'), [], 'collected values of closed windows deleted');
  const after = await h.process('c', 'w', 14);
  t.same(after.updated, [], 'collect windows report no updates');
  t.same(await h.windows('c'), [[10, 20, null]], 'a record of a later window opens it, [5,15) stays closed');
});

t.test('closeAll: sliding windows emit each record window once; the key clock moves past them', async (t) => {
  const late = lateLog();
  const h = await OperatorHarness.open(t, slidingWindow({ durationMs: 10, aggregate: sum(), onLate: late.onLate }) as never);
  await h.process('k', 1, 20);
  t.same((await h.process('k', 2, 25)).expired, [{ key: 'k', start: 10, end: 20, value: 1 }], 'closed by the clock');
  t.same(await h.closeAll(), [{ key: 'k', start: 15, end: 25, value: 3 }], 'the window still open');
  t.same(await h.closeAll(), [], 'not emitted twice');
  t.same(await h.process('k', 4, 12), { updated: [], expired: [] }, 'a record within closed windows only is late');
  t.same(late.reports, [[12, 2, 12, 13]], 'late by the clock');
  t.same(await h.process('k', 16, 22), { updated: [], expired: [] }, 'a record up to the last closed record time is late');
  t.same(late.reports[1], [22, 12, 22, 4], 'its window would end in the closed past');
  const next = await h.process('k', 8, 30);
  t.same(next.updated, [{ key: 'k', start: 20, end: 30, value: 11 }], 'a later record: its window holds the earlier records within D');
  t.same((await h.process('k', 1, 45)).expired, [{ key: 'k', start: 20, end: 30, value: 11 }], 'and closes as usual; [15, 25] not again');
  t.same(await h.closeAll(), [{ key: 'k', start: 35, end: 45, value: 1 }]);
  t.same(h.warnings, [], 'onLate returned false');
});

t.test('closeAll: count windows emit partial windows and counting restarts', async (t) => {
  const h = await OperatorHarness.open(t, hoppingCountWindow({ count: 3, step: 2, aggregate: collect() }) as never);
  for (const [v, ts] of [['a', 1], ['b', 2], ['c', 3], ['d', 4]] as const) await h.process('k', v, ts);
  // Closed on the way: [a b c]. Open: [c d] (from the 3rd record) — [a b c] already went.
  t.same(await h.closeAll(), [{ key: 'k', start: 3, end: 4, value: ['c', 'd'] }]);
  t.same(await h.collection('k'), []);
  await h.process('k', 'e', 5);
  await h.process('k', 'f', 6);
  t.same((await h.process('k', 'g', 7)).expired, [{ key: 'k', start: 5, end: 7, value: ['e', 'f', 'g'] }], 'a fresh window of 3');

  const tumbling = await OperatorHarness.open(t, tumblingCountWindow({ count: 5, aggregate: sum() }) as never, 'tumbling');
  await tumbling.process('x', 2, 10);
  await tumbling.process('', 3, 11);
  t.same(await tumbling.closeAll(), [
    { key: '', start: 11, end: 11, value: 3 },
    { key: 'x', start: 10, end: 10, value: 2 },
  ]);
});

t.test('closeAll: sessions close; a record within the gap of the closed session is late, a later one starts a new session', async (t) => {
  const late = lateLog();
  const h = await OperatorHarness.open(t, sessionWindow({ inactivityGapMs: 10, graceMs: 5, aggregate: count(), onLate: late.onLate }) as never);
  await h.process('k', 'a', 100);
  await h.process('k', 'b', 108);
  t.same(await h.closeAll(), [{ key: 'k', start: 100, end: 108, value: 2 }]);
  t.same(await h.process('k', 'c', 118), { updated: [], expired: [] });
  t.same(late.reports, [[118, 100, 108, 1]], 'reports the closed session it belongs to');
  const plain = await OperatorHarness.open(t, sessionWindow({ inactivityGapMs: 10, aggregate: count() }) as never, 'plain');
  await plain.process('k', 'a', 100);
  await plain.closeAll();
  await plain.process('k', 'b', 105);
  t.match(plain.warnings, [/closed window \[100, 100\] of store "plain_session_window_10_count": events\[0\]@0 timestamp 105 is 1 ms late/]);
  t.same((await h.process('k', 'd', 119)).updated, [{ key: 'k', start: 119, end: 119, value: 1 }]);
});

t.test('session lateness: the issue example (gap 100, grace 0)', async (t) => {
  const late = lateLog();
  const h = await OperatorHarness.open(t, sessionWindow({ inactivityGapMs: 100, aggregate: count(), onLate: late.onLate }) as never);
  const emitted: Produced['expired'] = [];
  for (const ts of [1000, 1050, 1160, 1140, 1045, 2000]) emitted.push(...(await h.process('k', ts, ts)).expired);
  t.same(emitted, [
    { key: 'k', start: 1000, end: 1050, value: 2 },
    { key: 'k', start: 1160, end: 1160, value: 1 },
  ], 'sessions of one key never overlap');
  t.same(late.reports, [
    [1140, 1000, 1050, 10],
    [1045, 1000, 1050, 10],
  ], 'both belong to the closed session [1000, 1050], which closed 10 ms before the clock');
  // A record late on its own, not near the newest closed session, reports its own would-be session.
  await h.process('k', 0, 500);
  t.same(late.reports[2], [500, 500, 500, 1400], 'clock 2000: its session would have closed at 600');
});

t.test('session lateness: a record in the early part of a long open session joins it', async (t) => {
  const h = await OperatorHarness.open(t, sessionWindow({ inactivityGapMs: 10, aggregate: count() }) as never);
  for (let ts = 0; ts <= 100; ts += 10) await h.process('k', ts, ts);
  t.same((await h.process('k', 'early', 3)).updated, [{ key: 'k', start: 0, end: 100, value: 12 }]);
});

t.test('collect() order: timestamp order for time windows, arrival order for count windows', async (t) => {
  const time = await OperatorHarness.open(t, tumblingWindow({ durationMs: 100, graceMs: 50, aggregate: collect() }) as never);
  for (const [v, ts] of [['late-arriving', 30], ['first', 10], ['same-time-1', 20], ['same-time-2', 20]] as const) await time.process('k', v, ts);
  t.same(await time.closeAll(), [{ key: 'k', start: 0, end: 100, value: ['first', 'same-time-1', 'same-time-2', 'late-arriving'] }]);
  const counted = await OperatorHarness.open(t, tumblingCountWindow({ count: 3, aggregate: collect() }) as never, 'count');
  await counted.process('k', 'x', 30);
  await counted.process('k', 'y', 10);
  t.same((await counted.process('k', 'z', 20)).expired, [{ key: 'k', start: 10, end: 30, value: ['x', 'y', 'z'] }]);
});

t.test('hopping count windows refuse step ≥ count', async (t) => {
  t.throws(() => hoppingCountWindow({ count: 3, step: 3, aggregate: sum() }), {
    constructor: InvalidWindowDefinitionError,
    field: 'step',
    message: /hoppingCountWindow: invalid step: must be below count \(3\), got 3: use tumblingCountWindow/,
  });
  t.throws(() => hoppingCountWindow({ count: 3, step: 5, aggregate: sum() }), { field: 'step', message: /would belong to none/ });
  t.doesNotThrow(() => hoppingCountWindow({ count: 3, step: 2, aggregate: sum() }));
});

for (const closeBy of ['key', 'partition'] as const) {
  t.test(`triggers: a window re-created after afterUpdate lists only later values (${closeBy} closing)`, async (t) => {
    const h = await OperatorHarness.open(
      t,
      tumblingWindow<string>({ durationMs: 100, closeBy, aggregate: { n: count(), values: collect() }, afterUpdate: (r) => (r as { n: number }).n >= 2 }) as never,
    );
    await h.process('k', 'a', 10);
    t.same((await h.process('k', 'b', 5)).expired, [{ key: 'k', start: 0, end: 100, n: 2, values: ['b', 'a'] }], 'timestamp order');
    await h.process('k', 'c', 20);
    t.same((await h.process('k', 'd', 1)).expired, [{ key: 'k', start: 0, end: 100, n: 2, values: ['d', 'c'] }], 'a and b do not reappear');
    await h.process('k', 'e', 30);
    t.same((await h.process('k', 'f', 250)).expired, [{ key: 'k', start: 0, end: 100, n: 1, values: ['e'] }], 'expiry lists the same');
    const marks = await new WindowedTransaction(h.partition.begin()).transaction.getItems(0, 1_000, encodeJson('k'), false, TRIGGER_MARKS_CF);
    t.same(marks, [], 'trigger marks of expired windows are dropped');
  });
}

t.test('triggers: the record that fires beforeUpdate opens the next window, in aggregates and collect alike', async (t) => {
  const seen: unknown[] = [];
  const h = await OperatorHarness.open(
    t,
    tumblingWindow<number>({
      durationMs: 100,
      aggregate: { total: sum(), values: collect() },
      beforeUpdate: (r, v) => (seen.push(r), (r as { total: number }).total + v > 10),
    }) as never,
  );
  await h.process('k', 4, 10);
  await h.process('k', 5, 20);
  const fired = await h.process('k', 6, 30);
  t.same(fired.expired, [{ key: 'k', start: 0, end: 100, total: 9, values: [4, 5] }]);
  t.same((await h.process('k', 1, 250)).expired, [{ key: 'k', start: 0, end: 100, total: 6, values: [6] }]);
  t.same(seen, [{ total: 4, values: [4] }, { total: 9, values: [4, 5] }], 'not consulted for the record opening a window');
});

t.test('triggers: a record whose windows a trigger closed still advances its key clock', async (t) => {
  const late = lateLog();
  const h = await OperatorHarness.open(t, tumblingWindow({ durationMs: 10, aggregate: sum(), afterUpdate: () => true, onLate: late.onLate }) as never);
  t.same((await h.process('k', 1, 100)).expired, [{ key: 'k', start: 100, end: 110, value: 1 }]);
  t.same(await h.process('k', 2, 50), { updated: [], expired: [] }, 'the clock is at 100: [50, 60) is closed');
  t.same(late.reports, [[50, 50, 60, 50]]);
});
