import t from 'tap';
import { runJob } from '../../runtime/job-runner.js';
import { clearState } from '../../runtime/state-inspection.js';
import {
  appendEvents,
  createJobFixture,
  decodeJson,
  generateEvents,
  modelCounts,
  readTopic,
  stateCounts,
} from './job-fixture.js';

for (const workers of [1, 2, 4]) {
  t.test(`counts are exact with ${workers} worker(s)`, async (t) => {
    const fixture = await createJobFixture(t.testdir());
    const events = generateEvents(20_000, 700, workers);
    await appendEvents(fixture, events);
    const config = { ...(await fixture.config()), workers };
    const summary = await runJob(config, { untilIdle: true });
    t.equal(summary.records, events.length, 'every record processed once');
    t.equal(summary.workers.length, workers);
    t.same(await stateCounts(config), modelCounts(events), 'state equals the model');

    // The last emitted count per key equals the final count.
    const outputs = await readTopic(fixture.logPath, 'counts');
    t.equal(outputs.length, events.length, 'one output per input');
    const last = new Map<string, number>();
    for (const o of outputs) last.set(decodeJson(o.key) as string, decodeJson(o.value) as number);
    t.same(last, modelCounts(events));
  });
}

t.test('a restart continues where the last checkpoint left off', async (t) => {
  const fixture = await createJobFixture(t.testdir());
  const first = generateEvents(8_000, 300, 7);
  await appendEvents(fixture, first);
  const config = { ...(await fixture.config()), workers: 2 };
  const run1 = await runJob(config, { untilIdle: true });
  t.equal(run1.records, first.length);

  const second = generateEvents(5_000, 300, 8, first.length);
  await appendEvents(fixture, second);
  const run2 = await runJob(config, { untilIdle: true });
  t.equal(run2.records, second.length, 'only the new records are processed');
  t.equal(run2.recoveredRecords, 0, 'local state was up to date: nothing replayed');
  t.same(await stateCounts(config), modelCounts([...first, ...second]));
});

t.test('state clear then rerun rebuilds identical state from the changelog', async (t) => {
  const fixture = await createJobFixture(t.testdir());
  const events = generateEvents(10_000, 400, 11);
  await appendEvents(fixture, events);
  const config = { ...(await fixture.config()), workers: 2 };
  await runJob(config, { untilIdle: true });
  const before = await stateCounts(config);

  await clearState(config);
  t.same(await stateCounts(config), new Map(), 'state is gone');
  const rerun = await runJob(config, { untilIdle: true });
  t.equal(rerun.records, 0, 'nothing reprocessed outside recovery');
  t.ok(rerun.recoveredRecords > 0, 'state came back through recovery');
  t.same(await stateCounts(config), before, 'identical state');
  t.same(before, modelCounts(events));
});

t.test('recovery progress is reported through onRecoveryProgress', async (t) => {
  const fixture = await createJobFixture(t.testdir());
  await appendEvents(fixture, generateEvents(3_000, 100, 3));
  const config = { ...(await fixture.config()), workers: 1 };
  await runJob(config, { untilIdle: true });
  await clearState(config);
  const done: string[] = [];
  await runJob(config, {
    untilIdle: true,
    onRecoveryProgress: (p) => {
      if (p.done) done.push(`${p.store}:${p.partition}:${p.recovered}`);
    },
  });
  t.equal(done.length, 4, 'one completion per partition');
  t.ok(done.every((d) => !d.endsWith(':0')), 'each replayed records');
});
