import t from 'tap';
import { App } from '../../runtime/app.js';
import { runJob } from '../../runtime/job-runner.js';
import { clearState } from '../../runtime/state-inspection.js';
import { changelogTopicName, streamIdOf } from '../../runtime/changelog-topics.js';
import { LocalLogBackend } from '../../shared/log/local/local-log-backend.js';
import { ChangelogTopicMismatchError } from '../../shared/errors/runtime-errors.js';
import { StoreLockedError } from '../../shared/errors/state-errors.js';
import { appendEvents, createJobFixture, generateEvents } from './job-fixture.js';

t.test('changelog topics are named changelog__<app>--<stream>--<store>', async (t) => {
  t.equal(changelogTopicName('v4', 'test-topic', 'default'), 'changelog__v4--test-topic--default');
  t.equal(streamIdOf(['b', 'a', 'b']), 'a--b', 'sorted unique input topics');
});

t.test('changelog topics get the source partition count; a mismatch is a clear error', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { partitions: 3 });
  await appendEvents(fixture, generateEvents(10, 5, 1), 3);
  const backend = await LocalLogBackend.open(fixture.logPath);
  t.teardown(() => backend.close());
  const config = await fixture.config();
  await App.create(config, backend);
  t.equal((await backend.describeTopic('changelog__test-count--events--counts'))?.partitions, 3);
  t.equal((await backend.describeTopic('changelog__test-count--events--counts'))?.config.compact, true, 'compacted');

  const other = { ...config, appId: 'other' };
  await backend.createTopic('changelog__other--events--counts', 5, { compact: true });
  const error = (await App.create(other, backend).catch((e: unknown) => e)) as Error;
  t.type(error, ChangelogTopicMismatchError);
  t.match(error.message, /changelog__other--events--counts has 5 partitions but its source has 3/);
});

t.test('weir state clear fails while a running job holds the state, naming the store partition', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { partitions: 1 });
  await appendEvents(fixture, generateEvents(100, 5, 1), 1);
  const config = { ...(await fixture.config()), workers: 1 };
  const controller = new AbortController();
  const backend = await LocalLogBackend.open(fixture.logPath);
  const app = await App.create(config, backend);
  let assigned!: () => void;
  const started = new Promise<void>((resolve) => (assigned = resolve));
  // Records processed ⇒ the partition's store is open (worker threads may take a while to boot).
  const running = app.run({ signal: controller.signal, onThroughput: (records) => records > 0 && assigned() });
  await started;
  const error = (await clearState(config).catch((e: unknown) => e)) as Error;
  t.type(error, StoreLockedError);
  t.match(error.message, /counts/);
  controller.abort();
  await running;
  await backend.close();
  await clearState(config);
});

t.test('commitEvery checkpoints after that many records', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { partitions: 1, commitEvery: 100, commitInterval: 9999 });
  await appendEvents(fixture, generateEvents(1_000, 20, 2), 1);
  const summary = await runJob({ ...(await fixture.config()), workers: 1 }, { untilIdle: true });
  t.equal(summary.records, 1_000);
  t.equal(summary.checkpoints, 10, 'one checkpoint per 100 records');
});
