/**
 * Hardening issue item 6: a pipeline that never returns (an endless loop) stops the job
 * with a named error naming the worker, partition and offset, and a stop signal ends a
 * stuck run after the shutdown grace period. Nothing committed is lost.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { App } from '../../runtime/app.js';
import { LocalLogBackend } from '../../shared/log/local/local-log-backend.js';
import { StopTimeoutError, WorkerStuckError } from '../../shared/errors/runtime-errors.js';
import { appendEvents, createJobFixture, generateEvents } from '../runtime/job-fixture.js';

/**
 * Counts, and loops forever on the record with value n === 150 (after other records were
 * counted), first creating `marker` so a test can wait until the worker is stuck.
 */
const loopingPipeline = (marker: string): string => `
import { writeFileSync } from 'node:fs';
export default {
  stores: { counts: { preload: ['count'] } },
  process(record, context) {
    if (record.value.n === 150) { writeFileSync(${JSON.stringify(marker)}, 'stuck'); for (;;) {} }
    const state = context.state('counts');
    state.set('count', state.get('count', 0) + 1);
  },
};
`;

async function loopingJob(dir: string) {
  const marker = join(dir, 'stuck.marker');
  const fixture = await createJobFixture(dir, { partitions: 1, pipeline: loopingPipeline(marker), commitEvery: 100 });
  const events = generateEvents(300, 5, 3).map((e, n) => ({ ...e, value: new TextEncoder().encode(JSON.stringify({ n })) }));
  await appendEvents(fixture, events, 1);
  return { fixture, marker, config: { ...(await fixture.config()), workers: 1 } };
}

t.test('an endless loop in the pipeline stops the job with WorkerStuckError naming worker, partition and offset', async (t) => {
  const { config } = await loopingJob(t.testdir());
  const backend = await LocalLogBackend.open(config.log.backend === 'local' ? config.log.path : '');
  t.teardown(() => backend.close());
  const app = await App.create(config, backend);
  const error = await app.run({ untilIdle: true, processingTimeoutMs: 1_500 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(error, WorkerStuckError);
  t.match((error as Error).message, /worker 0 .*events\[0\] from offset \d+/);
  t.equal((error as WorkerStuckError).code, 'WORKER_STUCK');
  // The stopped thread's state stays locked in this process (a CLI run exits), so check
  // what was committed on the log: nothing at or past the stuck record.
  const committed = (await backend.committedOffsets(config.appId, [{ topic: 'events', partition: 0 }])).get('events[0]');
  t.ok(committed === undefined || committed <= 150, `committed offset ${committed} is not past the stuck record`);
});

t.test('a stop signal ends a stuck run after the shutdown grace period', async (t) => {
  const { config, marker } = await loopingJob(t.testdir());
  const backend = await LocalLogBackend.open(config.log.backend === 'local' ? config.log.path : '');
  t.teardown(() => backend.close());
  const app = await App.create(config, backend);
  const controller = new AbortController();
  const running = app.run({ signal: controller.signal, processingTimeoutMs: 600_000, shutdownTimeoutMs: 1_000 });
  // The stop signal arrives once the worker is in the endless loop.
  while (!existsSync(marker)) await sleep(50);
  controller.abort();
  const error = await running.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(error, StopTimeoutError);
  t.match((error as Error).message, /did not stop within 1 s .*worker 0 on events\[0\]/);
});
