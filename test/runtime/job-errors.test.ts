/**
 * Processing errors, error policies and application-level scenarios of spec section J
 * that need no Kafka (137–141), adapted.
 */
import t from 'tap';
import { runJob } from '../../runtime/job-runner.js';
import { App } from '../../runtime/app.js';
import { clearState } from '../../runtime/state-inspection.js';
import { LocalLogBackend } from '../../shared/log/local/local-log-backend.js';
import { WorkerFailedError, InputTopicNotFoundError } from '../../shared/errors/runtime-errors.js';
import {
  FAILING_PIPELINE,
  appendEvents,
  createJobFixture,
  decodeJson,
  generateEvents,
  readTopic,
  stateCounts,
} from './job-fixture.js';

const encoder = new TextEncoder();
const keyed = (key: string, n: number) => ({
  topic: 'events',
  partition: 0,
  key: encoder.encode(JSON.stringify(key)),
  value: encoder.encode(JSON.stringify({ n })),
  timestamp: 1_700_000_000_000 + n,
});


t.test('137. three records with one key count to 3, also after reopening', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { partitions: 1 });
  await appendEvents(fixture, [keyed('key', 0), keyed('key', 1), keyed('key', 2)], 1);
  const config = { ...(await fixture.config()), workers: 1 };
  await runJob(config, { untilIdle: true });
  t.same(await stateCounts(config), new Map([['key', 3]]));
});

t.test('138. an error under the stop policy fails the run, names partition and offset, commits nothing', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { partitions: 1, commitInterval: 9999, pipeline: FAILING_PIPELINE });
  await appendEvents(fixture, [keyed('key', 0), keyed('key', 1), keyed('key', 2), keyed('key', 3)], 1);
  const config = { ...(await fixture.config()), workers: 1 };
  const error = await runJob(config, { untilIdle: true }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(error, WorkerFailedError);
  t.match((error as Error).message, /events\[0\] offset 2/);
  t.match((error as Error).message, /boom on the third record/);
  t.same(await stateCounts(config), new Map(), 'nothing was flushed');

  // Nothing was committed either: a fixed pipeline reprocesses everything.
  const fixed = await createJobFixture(fixture.dir, { partitions: 1 });
  const rerun = await runJob({ ...(await fixed.config()), workers: 1 }, { untilIdle: true });
  t.equal(rerun.records, 4, 'all records reprocessed');
  t.same(await stateCounts(config), new Map([['key', 4]]));
});

t.test('139. under the skip policy the failing record is skipped with no effect on state or outputs', async (t) => {
  const fixture = await createJobFixture(t.testdir(), {
    partitions: 1,
    pipeline: FAILING_PIPELINE,
    extraYaml: 'errors: { policy: skip }',
  });
  await appendEvents(fixture, [keyed('key', 0), keyed('key', 1), keyed('key', 2)], 1);
  const config = { ...(await fixture.config()), workers: 1 };
  const summary = await runJob(config, { untilIdle: true });
  t.equal(summary.records, 3);
  // (The reference keeps a failed record's partial writes; weir undoes them, as its windows do.)
  t.same(await stateCounts(config), new Map([['key', 2]]), 'the state write before the error is undone');
  const outputs = (await readTopic(fixture.logPath, 'counts')).map((r) => decodeJson(r.value));
  t.same(outputs, [1, 2], 'the output emitted before the error is dropped');
});

t.test('the dead-letter policy routes the failing record with the error to the dead-letter topic', async (t) => {
  const fixture = await createJobFixture(t.testdir(), {
    partitions: 1,
    pipeline: FAILING_PIPELINE,
    extraYaml: 'errors: { policy: dead-letter, deadLetterTopic: dead }',
  });
  await appendEvents(fixture, [keyed('key', 0), keyed('key', 1), keyed('key', 2), keyed('key', 3)], 1);
  const config = { ...(await fixture.config()), workers: 1 };
  await runJob(config, { untilIdle: true });
  const dead = await readTopic(fixture.logPath, 'dead');
  t.equal(dead.length, 1);
  t.same((await readTopic(fixture.logPath, 'counts')).map((r) => decodeJson(r.value)), [1, 2, 3], 'the failed record emitted nothing');
  t.same(await stateCounts(config), new Map([['key', 3]]), 'and counted nothing');
  t.same(decodeJson(dead[0]!.key), 'key');
  t.same(decodeJson(dead[0]!.value), { n: 2 });
  const headers = Object.fromEntries(dead[0]!.headers.map((h) => [h.key, new TextDecoder().decode(h.value!)]));
  t.equal(headers['weir.error'], 'boom on the third record');
  t.equal(headers['weir.source'], 'events[0]@2');
});

t.test('140. state clear with no partitions assigned leaves no state', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { partitions: 1 });
  await appendEvents(fixture, [keyed('key', 0)], 1);
  const config = { ...(await fixture.config()), workers: 1 };
  await runJob(config, { untilIdle: true });
  await clearState(config);
  t.same(await stateCounts(config), new Map());
});

t.test('141. with changelogs off no changelog topic exists and state survives on disk only', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { partitions: 2, extraYaml: 'state: { dir: ./state, changelog: false }' });
  // extraYaml overrides the earlier state line (YAML: last key wins is not allowed), so rewrite it.
  const { readFile, writeFile } = await import('node:fs/promises');
  const text = (await readFile(fixture.configPath, 'utf8')).replace('state: { dir: ./state }\n', '');
  await writeFile(fixture.configPath, text);
  const events = generateEvents(500, 20, 4);
  await appendEvents(fixture, events, 2);
  const config = { ...(await fixture.config()), workers: 1 };
  const summary = await runJob(config, { untilIdle: true });
  t.equal(summary.records, 500);
  const backend = await LocalLogBackend.open(fixture.logPath);
  const topics = (await backend.listTopics()).map((d) => d.name).sort();
  await backend.close();
  t.same(topics, ['counts', 'events'], 'no changelog topic');
  t.equal((await stateCounts(config)).size, 20);
});

t.test('a missing input topic fails with an error naming it', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { partitions: 1 });
  const config = await fixture.config();
  const backend = await LocalLogBackend.open(fixture.logPath);
  t.teardown(() => backend.close());
  await t.rejects(App.create(config, backend), InputTopicNotFoundError);
  await t.rejects(App.create(config, backend), /input topic events does not exist/);
});
