/**
 * Documented config fields that only had parse tests, run in a job to show each has the
 * documented effect (issue 12, item 13: "check every documented field and option"):
 * `input.sourceOffsetOutOfRange`, `limits.checkpointBytes`, `output.topics` (and the
 * `partitions` of the topics a job creates).
 */
import t from 'tap';
import { App } from '../../runtime/app.js';
import { runJob } from '../../runtime/job-runner.js';
import { LocalLogBackend } from '../../shared/log/local/local-log-backend.js';
import type { LogBackend, TopicPartition } from '../../shared/log/log-backend.js';
import { appendEvents, createJobFixture, generateEvents, replaceMethods } from '../runtime/job-fixture.js';

t.setTimeout(600_000);

/**
 * The local log never raises an input topic's low watermark (no retention), so this
 * backend reports one, as Kafka does after retention deleted the records below it.
 */
function withLowWatermark(backend: LocalLogBackend, topic: string, low: number): LogBackend {
  return replaceMethods<LogBackend>(backend, {
    async watermarks(tp: TopicPartition) {
      const real = await backend.watermarks(tp);
      return tp.topic === topic ? { ...real, low: Math.max(real.low, low) } : real;
    },
  });
}

t.test('input.sourceOffsetOutOfRange: a committed offset below the low watermark follows the policy', async (t) => {
  // One partition: the group commits 20, then 20 more records arrive and "retention" moves
  // the low watermark to 30, above the committed offset.
  const outcomes = new Map<string, number | string>();
  for (const policy of ['earliest', 'latest', 'error'] as const) {
    const fixture = await createJobFixture(t.testdir(), { appId: `range-${policy}`, partitions: 1 });
    await appendEvents(fixture, generateEvents(20, 5, 1), 1);
    const base = await fixture.config();
    const config = { ...base, workers: 1, input: { ...base.input, sourceOffsetOutOfRange: policy } };
    t.equal((await runJob(config, { untilIdle: true })).records, 20, `${policy}: the first run reads and commits 20`);
    await appendEvents(fixture, generateEvents(20, 5, 2, 20), 1);

    const backend = await LocalLogBackend.open(fixture.logPath);
    try {
      const app = await App.create(config, withLowWatermark(backend, 'events', 30));
      const outcome = await app.run({ untilIdle: true, onRecoveryProgress: () => undefined }).then(
        (summary) => summary.records,
        (error: unknown) => (error as { code?: string }).code ?? String(error),
      );
      outcomes.set(policy, outcome);
    } finally {
      await backend.close();
    }
  }
  t.equal(outcomes.get('earliest'), 10, 'earliest: resumes at the low watermark (30..39)');
  t.equal(outcomes.get('latest'), 0, 'latest: resumes at the end');
  t.equal(outcomes.get('error'), 'SOURCE_OFFSET_OUT_OF_RANGE', 'error: the job stops');
});

t.test('limits.checkpointBytes: above it a checkpoint starts early, whatever the interval', async (t) => {
  // Exactly-once holds the outputs and the changed state for the checkpoint, at-least-once
  // the changed state (its outputs stream); a one-hour interval never comes.
  for (const guarantee of ['exactly-once', 'at-least-once'] as const) {
    const checkpoints = new Map<number, number>();
    for (const limit of [64 * 1024 * 1024, 64 * 1024]) {
      const fixture = await createJobFixture(t.testdir(), {
        appId: `limit-${guarantee}-${limit}`,
        partitions: 2,
        processingGuarantee: guarantee,
        commitInterval: 3600,
      });
      await appendEvents(fixture, generateEvents(20_000, 2_000, 3), 2);
      const base = await fixture.config();
      // A small in-flight limit keeps the input from being routed all at once (a run
      // until idle ends, with its final checkpoint, as soon as everything is routed).
      const limits = { ...base.limits, workerInFlightBytes: 64 * 1024, checkpointBytes: limit };
      const summary = await runJob({ ...base, workers: 1, limits }, { untilIdle: true });
      t.equal(summary.records, 20_000, `${guarantee}: every record processed`);
      checkpoints.set(limit, summary.checkpoints);
    }
    const byDefault = checkpoints.get(64 * 1024 * 1024)!;
    const small = checkpoints.get(64 * 1024)!;
    t.ok(byDefault <= 2, `${guarantee}, the default limit: the final checkpoint only (${byDefault})`);
    t.ok(small > 2, `${guarantee}, 64 KiB: early checkpoints (${small})`);
  }
});

t.test('output.topics: missing ones are created with `partitions` partitions; emitting elsewhere fails naming the topic', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { partitions: 3, outputTopics: ['counts', 'extra'] });
  await appendEvents(fixture, generateEvents(10, 2, 4), 3);
  await runJob({ ...(await fixture.config()), workers: 1 }, { untilIdle: true });
  const backend = await LocalLogBackend.open(fixture.logPath);
  t.equal((await backend.describeTopic('extra'))?.partitions, 3, 'a declared output topic the pipeline never used exists, with 3 partitions');
  await backend.close();

  const undeclared = await createJobFixture(t.testdir(), {
    appId: 'undeclared',
    pipeline: "export default { process(record, context) { context.emit('nowhere', { key: record.key, value: 1 }); } };",
  });
  await appendEvents(undeclared, generateEvents(5, 2, 5), 4);
  const error = await runJob({ ...(await undeclared.config()), workers: 1 }, { untilIdle: true }).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  t.match(error?.message, /cannot emit to nowhere: add it to output\.topics in the config \(declared: counts\)/);
});
