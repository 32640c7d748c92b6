/**
 * When the run loop checkpoints, and which partitions (runtime/checkpoint-schedule.ts,
 * docs/semantics.md §8.2): all at once under exactly-once, `commitEvery` and a zero
 * interval; under at-least-once one slice at a time, spread over the interval.
 */
import t from 'tap';
import { CheckpointSchedule, MIN_SLICE_SPACING_MS, type CheckpointCut } from '../../runtime/checkpoint-schedule.js';

const EIGHT = [0, 1, 2, 3, 4, 5, 6, 7];

/** Steps a schedule through `untilMs` in steps of `stepMs`, routing `perStep` records each step; returns the cuts started, with their times. */
function drive(
  schedule: CheckpointSchedule,
  partitions: readonly number[],
  untilMs: number,
  options: { stepMs?: number; perStep?: (ms: number) => number; overLimit?: (ms: number) => boolean; fromMs?: number } = {},
): Array<{ ms: number; cut: CheckpointCut }> {
  const cuts: Array<{ ms: number; cut: CheckpointCut }> = [];
  const step = options.stepMs ?? 10;
  for (let ms = options.fromMs ?? step; ms <= untilMs; ms += step) {
    schedule.routed(options.perStep?.(ms) ?? 100);
    const cut = schedule.due(ms, options.overLimit?.(ms) ?? false, () => partitions);
    if (cut !== undefined) {
      schedule.started(ms, cut);
      cuts.push({ ms, cut });
    }
  }
  return cuts;
}

t.test('exactly-once: every partition at once, once per interval', async (t) => {
  const schedule = new CheckpointSchedule({ intervalMs: 1000, commitEvery: 0, sliced: false }, 0);
  const cuts = drive(schedule, EIGHT, 3500);
  t.same(cuts, [
    { ms: 1000, cut: 'all' },
    { ms: 2000, cut: 'all' },
    { ms: 3000, cut: 'all' },
  ]);
});

t.test('at-least-once: one slice at a time, every partition once per interval', async (t) => {
  const schedule = new CheckpointSchedule({ intervalMs: 5000, commitEvery: 0, sliced: true }, 0);
  const cuts = drive(schedule, EIGHT, 10_000, { stepMs: 5 });
  t.equal(cuts.length, 16, 'eight slices per interval');
  t.ok(cuts.every(({ cut }) => cut !== 'all' && cut.length === 1), 'a slice of one partition each (8 partitions, 5 s)');
  const gaps = cuts.slice(1).map((c, i) => c.ms - cuts[i]!.ms);
  t.ok(gaps.every((g) => g >= 625 && g <= 630), `slices 625 ms apart (${gaps.join(', ')})`);
  const lastAt = new Map<number, number>();
  for (const { ms, cut } of cuts) {
    for (const p of cut as readonly number[]) {
      const previous = lastAt.get(p);
      if (previous !== undefined) t.ok(ms - previous <= 5010, `partition ${p} again within the interval (${ms - previous} ms)`);
      lastAt.set(p, ms);
    }
  }
  t.same([...lastAt.keys()].sort((a, b) => a - b), EIGHT, 'every partition');
});

t.test('more partitions than slices fit: slices of several, at least the spacing apart', async (t) => {
  const partitions = Array.from({ length: 40 }, (_, i) => 39 - i);
  const schedule = new CheckpointSchedule({ intervalMs: 1000, commitEvery: 0, sliced: true }, 0);
  const cuts = drive(schedule, partitions, 1000);
  t.equal(cuts.length, 1000 / MIN_SLICE_SPACING_MS, 'as many slices as fit the spacing');
  const covered = cuts.flatMap(({ cut }) => cut as readonly number[]).sort((a, b) => a - b);
  t.same(covered, Array.from({ length: 40 }, (_, i) => i), 'each partition in exactly one slice per interval');
});

t.test('a short interval: one slice of every partition', async (t) => {
  const schedule = new CheckpointSchedule({ intervalMs: 300, commitEvery: 0, sliced: true }, 0);
  const cuts = drive(schedule, [0, 1, 2], 700);
  t.same(cuts, [
    { ms: 300, cut: [0, 1, 2] },
    { ms: 600, cut: [0, 1, 2] },
  ]);
});

t.test('input stops: slices not checkpointed since still get their turn, then nothing is due', async (t) => {
  const schedule = new CheckpointSchedule({ intervalMs: 1000, commitEvery: 0, sliced: true }, 0);
  // Records routed only in the first 100 ms.
  const cuts = drive(schedule, [0, 1, 2, 3], 5000, { perStep: (ms) => (ms <= 100 ? 100 : 0) });
  t.same(
    cuts.map(({ cut }) => cut),
    [[0], [1], [2], [3]],
    'each partition once after the input stopped, none again',
  );
});

t.test('nothing routed: nothing due', async (t) => {
  for (const sliced of [true, false]) {
    const schedule = new CheckpointSchedule({ intervalMs: 1000, commitEvery: 0, sliced }, 0);
    t.same(drive(schedule, [0, 1], 5000, { perStep: () => 0 }), [], `sliced: ${sliced}`);
  }
});

t.test('past the pending-bytes limit: every partition at once', async (t) => {
  const schedule = new CheckpointSchedule({ intervalMs: 5000, commitEvery: 0, sliced: true }, 0);
  const cuts = drive(schedule, EIGHT, 400, { overLimit: (ms) => ms === 200 });
  t.same(cuts, [{ ms: 200, cut: 'all' }]);
  // After it, the slices start over from where they were, spaced from the full checkpoint.
  const next = drive(schedule, EIGHT, 1000, { fromMs: 410 });
  t.same(next[0], { ms: 830, cut: [0] });
});

t.test('commitEvery and a zero interval: every partition at once', async (t) => {
  const every = new CheckpointSchedule({ intervalMs: 60_000, commitEvery: 250, sliced: true }, 0);
  t.same(
    drive(every, EIGHT, 60, { perStep: () => 50 }).map(({ ms, cut }) => [ms, cut]),
    [
      [50, 'all'],
    ],
    'after 250 records',
  );
  t.equal(every.routedSinceLast, 50, 'the count starts again at the checkpoint');
  const zero = new CheckpointSchedule({ intervalMs: 0, commitEvery: 0, sliced: true }, 0);
  t.same(
    drive(zero, EIGHT, 30).map(({ cut }) => cut),
    ['all', 'all', 'all'],
    'after every poll',
  );
});

t.test('the assignment changes: the slices are cut anew and none is skipped', async (t) => {
  const schedule = new CheckpointSchedule({ intervalMs: 1000, commitEvery: 0, sliced: true }, 0);
  let partitions = [0, 1, 2, 3];
  const seen: number[][] = [];
  for (let ms = 10; ms <= 3000; ms += 10) {
    if (ms === 1100) partitions = [0, 1];
    schedule.routed(10);
    const cut = schedule.due(ms, false, () => partitions);
    if (cut === undefined) continue;
    schedule.started(ms, cut);
    seen.push([...(cut as readonly number[])]);
  }
  t.same(seen.slice(0, 4), [[0], [1], [2], [3]]);
  const after = seen.slice(4);
  t.ok(after.length >= 3 && after.every((cut) => cut.length === 1 && cut[0]! <= 1), `two partitions, one per slice, 500 ms apart (${JSON.stringify(after)})`);
  t.ok(after.filter((cut) => cut[0] === 0).length >= 2 && after.filter((cut) => cut[0] === 1).length >= 2, 'both in turn');
});
