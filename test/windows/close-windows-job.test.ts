/**
 * `weir run --until-idle --close-windows` end to end on the local log: the end of input
 * closes every open window as a final result; later runs (also after the state is rebuilt
 * from the changelog) never re-open a closed window and open later windows as usual.
 */
import t from 'tap';
import { runJob } from '../../runtime/job-runner.js';
import { clearState } from '../../runtime/state-inspection.js';
import { decodeJson, readTopic } from '../runtime/job-fixture.js';
import { appendReadings, createWindowJob, definitionModule, windowsModule } from './fixtures/window-job.js';
import type { ModelEvent } from './fixtures/window-model.js';

t.setTimeout(300_000);

const PIPELINE = `
import { definePipeline } from ${JSON.stringify(definitionModule)};
import { tumblingWindow, count, sum } from ${JSON.stringify(windowsModule)};
export default definePipeline({
  windows: {
    totals: tumblingWindow({ durationMs: 1000, aggregate: { n: count(), total: sum((r) => r.celsius) }, to: 'averages', onLate: () => false }),
  },
});
`;

/** Emitted windows as `key start-end n total`, sorted. */
async function emitted(logPath: string): Promise<string[]> {
  return (await readTopic(logPath, 'averages'))
    .map((r) => {
      const v = decodeJson(r.value) as { start: number; end: number; n: number; total: number };
      return `${String(decodeJson(r.key))} ${v.start}-${v.end} ${v.n} ${v.total}`;
    })
    .sort();
}

const reading = (key: string, value: number, timestamp: number): ModelEvent => ({ key, value, timestamp });

for (const processingGuarantee of ['at-least-once', 'exactly-once'] as const) {
  t.test(`the end of input closes every open window, for good (${processingGuarantee})`, async (t) => {
    const job = await createWindowJob(t.testdir(), { pipeline: PIPELINE, processingGuarantee });
    const config = { ...(await job.config()), workers: 2 };
    await appendReadings(job, [reading('a', 1, 100), reading('a', 2, 500), reading('a', 4, 1200), reading('b', 8, 50)]);

    await runJob(config, { untilIdle: true });
    t.same(await emitted(job.logPath), ['a 0-1000 2 3'], '--until-idle alone: the last windows stay open');

    const closing = await runJob(config, { untilIdle: true, closeWindows: true });
    t.equal(closing.records, 0, 'no input left: only the windows close');
    t.same(await emitted(job.logPath), ['a 0-1000 2 3', 'a 1000-2000 1 4', 'b 0-1000 1 8'], 'the open windows as final results');

    await runJob(config, { untilIdle: true, closeWindows: true });
    t.same((await emitted(job.logPath)).length, 3, 'closing again emits nothing');

    // State rebuilt from the changelog keeps the closing: the windows stay closed.
    await clearState(config);
    await appendReadings(job, [reading('a', 16, 1500), reading('b', 32, 900), reading('a', 64, 2100), reading('b', 128, 1000)]);
    await runJob(config, { untilIdle: true, closeWindows: true });
    t.same(
      await emitted(job.logPath),
      ['a 0-1000 2 3', 'a 1000-2000 1 4', 'a 2000-3000 1 64', 'b 0-1000 1 8', 'b 1000-2000 1 128'],
      'records for closed windows are late; later windows open and close as usual',
    );
  });
}

t.test('a run stopped before the end of input closes nothing', async (t) => {
  const job = await createWindowJob(t.testdir(), { pipeline: PIPELINE });
  await appendReadings(job, [reading('a', 1, 100)]);
  await runJob(await job.config(), { untilIdle: true });
  const stopped = new AbortController();
  stopped.abort();
  await runJob(await job.config(), { untilIdle: true, closeWindows: true, signal: stopped.signal });
  t.same(await emitted(job.logPath), [], 'the window of a stays open');
  await runJob(await job.config(), { untilIdle: true, closeWindows: true });
  t.same(await emitted(job.logPath), ['a 0-1000 1 1'], 'and closes at the end of the next run');
});
