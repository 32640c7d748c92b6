/**
 * `input.autoOffsetReset` (hardening issue item 13): a group that never committed starts
 * at the first record (`earliest`, weir's default) or at the end of each partition
 * (`latest`, Kafka's default): then only records appended while it runs are processed.
 */
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { App } from '../../runtime/app.js';
import { runJob } from '../../runtime/job-runner.js';
import { LocalLogBackend } from '../../shared/log/local/local-log-backend.js';
import { appendEvents, createJobFixture, generateEvents, stateCounts } from './job-fixture.js';

t.test('latest: records already in the log are skipped, records appended while the job runs are processed', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { partitions: 2 });
  await appendEvents(fixture, generateEvents(200, 10, 1), 2);
  const base = await fixture.config();
  const config = { ...base, workers: 1, input: { ...base.input, autoOffsetReset: 'latest' as const } };

  const idle = await runJob(config, { untilIdle: true });
  t.equal(idle.records, 0, 'until-idle with latest: nothing before the start is processed, and the run ends');

  const backend = await LocalLogBackend.open(fixture.logPath);
  t.teardown(() => backend.close());
  const app = await App.create(config, backend);
  const controller = new AbortController();
  let assigned = false;
  const running = app.run({
    signal: controller.signal,
    onRecoveryProgress: () => undefined,
    onThroughput: () => {
      assigned = true;
    },
  });
  // The loop reports throughput once it polls: the partitions are assigned by then.
  while (!assigned) await sleep(20);
  const producer = await backend.producer();
  const fresh = generateEvents(30, 3, 2);
  await producer.append(fresh);
  await producer.close();
  const reader = await backend.reader();
  const outputPartitions = (await backend.describeTopic('counts'))!.partitions;
  const outputs = async (): Promise<number> => {
    let n = 0;
    for (let partition = 0; partition < outputPartitions; partition++) n += (await reader.read({ topic: 'counts', partition }, 0, 1_000)).length;
    return n;
  };
  while ((await outputs()) < 30) await sleep(20);
  await reader.close();
  controller.abort();
  const summary = await running;
  t.equal(summary.records, 30, 'exactly the records appended while it ran');
  await backend.close();
  const counts = await stateCounts(config);
  t.equal([...counts.values()].reduce((a, b) => a + b, 0), 30, 'and only they were counted');
});

t.test('earliest (the default): a new group processes everything already in the log', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { partitions: 2 });
  await appendEvents(fixture, generateEvents(200, 10, 1), 2);
  const summary = await runJob({ ...(await fixture.config()), workers: 1 }, { untilIdle: true });
  t.equal(summary.records, 200);
});
