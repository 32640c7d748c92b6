/**
 * Property: for random streams (keys, timestamps with disorder within and beyond
 * grace, random commit points), each window type's emitted final results equal those
 * of the simple in-memory models in fixtures/window-model.ts.
 */
import t from 'tap';
import fc from 'fast-check';
import { join } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { encodeJson } from '../../shared/codecs/index.js';
import {
  hoppingCountWindow,
  hoppingWindow,
  reduce,
  sessionWindow,
  slidingWindow,
  tumblingCountWindow,
  tumblingWindow,
  type WindowDeclaration,
} from '../../shared/pipeline/windows.js';
import { StorePartition, WindowedTransaction } from '../../workers/state/index.js';
import { createWindowOperator } from '../../workers/windows/index.js';
import { countWindowModel, partitionClosingModel, sessionModel, timeWindowModel, type ModelEvent, type ModelResult } from './fixtures/window-model.js';

t.setTimeout(600_000);

const toList = reduce<number, number[]>(
  (acc, v) => [...acc, v],
  (v) => [v],
  (a, b) => [...a, ...b],
);

/** Runs a declared window over `events`, committing after every `commitEvery` records; returns its final results. */
async function runWindow(declaration: WindowDeclaration<never>, events: readonly ModelEvent[], commitEvery: number): Promise<ModelResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-window-prop-'));
  const partition = await StorePartition.open(join(dir, 'db'), { hasChangelog: true });
  try {
    const operator = createWindowOperator('p', declaration, () => undefined);
    const out: ModelResult[] = [];
    let tx = partition.begin();
    let windowed = new WindowedTransaction(tx);
    for (const [i, e] of events.entries()) {
      const result = await operator.process(windowed, {
        prefix: encodeJson(e.key),
        key: e.key,
        value: e.value,
        timestamp: e.timestamp,
        headers: {},
        topic: 'in',
        partition: 0,
        offset: i,
      });
      for (const r of result.expired) out.push({ key: JSON.parse(Buffer.from(r.prefix).toString()) as string, start: r.start, end: r.end, values: r.payload.value as number[] });
      if ((i + 1) % commitEvery === 0) {
        await windowed.prepare({ in: i });
        await tx.flush(i);
        tx = partition.begin();
        windowed = new WindowedTransaction(tx);
      }
    }
    emitted += out.length;
    return out;
  } finally {
    await partition.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const eventsArb = (maxBack: number): fc.Arbitrary<ModelEvent[]> =>
  fc
    .array(
      fc.record({
        key: fc.constantFrom('a', 'b', 'c'),
        value: fc.integer({ min: 0, max: 99 }),
        step: fc.integer({ min: 0, max: 6 }),
        back: maxBack === 0 ? fc.constant(0) : fc.oneof(fc.constant(0), fc.integer({ min: 0, max: maxBack })),
      }),
      { minLength: 10, maxLength: 80 },
    )
    .map((raw) => {
      let cursor = 0;
      return raw.map(({ key, value, step, back }) => {
        cursor += step;
        return { key, value, timestamp: Math.max(0, cursor - back) };
      });
    });

const commitArb = fc.integer({ min: 1, max: 25 });
/** Windows emitted over all runs of the current property (the streams must close windows to test anything). */
let emitted = 0;
const RUNS = { numRuns: 50 };

t.test('tumbling windows equal the model', async (t) => {
  emitted = 0;
  await fc.assert(
    fc.asyncProperty(eventsArb(30), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 10 }), commitArb, async (events, duration, grace, commitEvery) => {
      const actual = await runWindow(tumblingWindow({ durationMs: duration, graceMs: grace, aggregate: toList }) as never, events, commitEvery);
      return t.same(actual, timeWindowModel(events, duration, duration, grace));
    }),
    RUNS,
  );
  t.ok(emitted > 100, `${emitted} windows emitted over the runs`);
});

t.test('hopping windows equal the model', async (t) => {
  emitted = 0;
  await fc.assert(
    fc.asyncProperty(
      eventsArb(30),
      fc.integer({ min: 2, max: 20 }).chain((d) => fc.tuple(fc.constant(d), fc.integer({ min: 1, max: d - 1 }))),
      fc.integer({ min: 0, max: 10 }),
      commitArb,
      async (events, [duration, step], grace, commitEvery) => {
        const actual = await runWindow(hoppingWindow({ durationMs: duration, stepMs: step, graceMs: grace, aggregate: toList }) as never, events, commitEvery);
        return t.same(actual, timeWindowModel(events, duration, step, grace));
      },
    ),
    RUNS,
  );
  t.ok(emitted > 100, `${emitted} windows emitted over the runs`);
});

t.test('hopping and tumbling windows closed by partition equal the model', async (t) => {
  emitted = 0;
  await fc.assert(
    fc.asyncProperty(
      eventsArb(30),
      fc.integer({ min: 2, max: 20 }).chain((d) => fc.tuple(fc.constant(d), fc.integer({ min: 1, max: d }))),
      fc.integer({ min: 0, max: 10 }),
      commitArb,
      async (events, [duration, step], grace, commitEvery) => {
        const declaration =
          step === duration
            ? tumblingWindow({ durationMs: duration, graceMs: grace, aggregate: toList, closeBy: 'partition' })
            : hoppingWindow({ durationMs: duration, stepMs: step, graceMs: grace, aggregate: toList, closeBy: 'partition' });
        const actual = await runWindow(declaration as never, events, commitEvery);
        return t.same(actual, partitionClosingModel(events, duration, step, grace));
      },
    ),
    RUNS,
  );
  t.ok(emitted > 100, `${emitted} windows emitted over the runs`);
});

t.test('session windows equal the model', async (t) => {
  emitted = 0;
  await fc.assert(
    fc.asyncProperty(eventsArb(30), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 10 }), commitArb, async (events, gap, grace, commitEvery) => {
      const actual = await runWindow(sessionWindow({ inactivityGapMs: gap, graceMs: grace, aggregate: toList }) as never, events, commitEvery);
      return t.same(actual, sessionModel(events, gap, grace));
    }),
    RUNS,
  );
  t.ok(emitted > 100, `${emitted} windows emitted over the runs`);
});

t.test('count windows equal the model', async (t) => {
  emitted = 0;
  await fc.assert(
    fc.asyncProperty(
      eventsArb(30),
      fc.integer({ min: 2, max: 6 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 1, max: n }))),
      commitArb,
      async (events, [size, step], commitEvery) => {
        const declaration = step === size ? tumblingCountWindow({ count: size, aggregate: toList }) : hoppingCountWindow({ count: size, step, aggregate: toList });
        const actual = await runWindow(declaration as never, events, commitEvery);
        return t.same(actual, countWindowModel(events, size, step));
      },
    ),
    RUNS,
  );
  t.ok(emitted > 100, `${emitted} windows emitted over the runs`);
});

/** Sliding model for streams in time order: one window `[max(0, t−D), t]` per distinct record time, all records in it. */
function slidingModel(events: readonly ModelEvent[], duration: number, grace: number): ModelResult[] {
  const out: ModelResult[] = [];
  const seen = new Map<string, { events: ModelEvent[]; emitted: Set<number> }>();
  for (const e of events) {
    const k = seen.get(e.key) ?? { events: [], emitted: new Set<number>() };
    seen.set(e.key, k);
    k.events.push(e);
    const maxExpiredStart = e.timestamp - grace - 1 - duration;
    const ends = [...new Set(k.events.map((x) => x.timestamp))].filter((end) => !k.emitted.has(end) && Math.max(0, end - duration) <= maxExpiredStart);
    ends.sort((a, b) => Math.max(0, a - duration) - Math.max(0, b - duration) || a - b);
    for (const end of ends) {
      const start = Math.max(0, end - duration);
      k.emitted.add(end);
      out.push({ key: e.key, start, end, values: k.events.filter((x) => x.timestamp >= start && x.timestamp <= end).map((x) => x.value).sort((a, b) => a - b) });
    }
  }
  return out;
}

t.test('sliding windows equal the model for streams in time order', async (t) => {
  emitted = 0;
  await fc.assert(
    fc.asyncProperty(eventsArb(0), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 10 }), commitArb, async (events, duration, grace, commitEvery) => {
      const actual = await runWindow(slidingWindow({ durationMs: duration, graceMs: grace, aggregate: toList }) as never, events, commitEvery);
      return t.same(
        actual.map((r) => ({ ...r, values: [...r.values].sort((a, b) => a - b) })),
        slidingModel(events, duration, grace),
      );
    }),
    RUNS,
  );
  t.ok(emitted > 100, `${emitted} windows emitted over the runs`);
});
