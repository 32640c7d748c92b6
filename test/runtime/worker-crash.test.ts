/**
 * A worker thread that dies (not a processing error: the thread itself) must stop the job
 * with an error naming the worker, never hang, and commit nothing of the open checkpoint.
 */
import t from 'tap';
import { runJob } from '../../runtime/job-runner.js';
import { WorkerFailedError } from '../../shared/errors/runtime-errors.js';
import { appendEvents, createJobFixture, generateEvents, stateCounts } from './job-fixture.js';

/** Kills its own thread from outside the processing call on the 100th record. */
const DYING_PIPELINE = `
let seen = 0;
export default {
  stores: { counts: { preload: ['count'] } },
  process(record, context) {
    const state = context.state('counts');
    state.set('count', state.get('count', 0) + 1);
    if (++seen === 100) setTimeout(() => { throw new Error('thread-killing bug'); }, 0);
  },
};
`;

t.test('a crashed worker thread stops the job with a clear error instead of hanging', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { partitions: 2, pipeline: DYING_PIPELINE, commitInterval: 9999 });
  await appendEvents(fixture, generateEvents(5_000, 50, 9), 2);
  const config = { ...(await fixture.config()), workers: 2 };
  const error = await runJob(config, { untilIdle: true }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(error, WorkerFailedError);
  t.match((error as Error).message, /worker \d failed: worker thread crashed: thread-killing bug/);
  t.same(await stateCounts(config), new Map(), 'nothing of the open checkpoint was written');
});

/** Keeps every record's value (and a padding string) alive: its heap only grows. */
const HOARDING_PIPELINE = `
const kept = [];
export default {
  process(record) {
    for (let i = 0; i < 200; i++) kept.push({ value: record.value, pad: 'x'.repeat(64) + i });
  },
};
`;

t.test('limits.workerMaxOldGenerationMb caps each worker heap: a worker past it stops the job naming the memory limit', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { partitions: 1, pipeline: HOARDING_PIPELINE, commitInterval: 9999 });
  await appendEvents(fixture, generateEvents(20_000, 50, 9), 1);
  const base = await fixture.config();
  const config = { ...base, workers: 1, limits: { ...base.limits, workerMaxOldGenerationMb: 32, workerMaxYoungGenerationMb: 4 } };
  const error = await runJob(config, { untilIdle: true }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(error, WorkerFailedError);
  t.match((error as Error).message, /worker 0 failed: worker thread crashed: .*memory limit/i);
});
