/**
 * At-least-once checkpoints in slices (docs/semantics.md §8.2) in a running job: while input
 * keeps arriving every checkpoint covers one slice of the partitions, every partition is
 * committed within the interval, and what the job leaves behind is exact.
 */
import t from 'tap';
import { App } from '../../runtime/app.js';
import { runJob } from '../../runtime/job-runner.js';
import { LocalLogBackend } from '../../shared/log/local/local-log-backend.js';
import type { AppendRecord } from '../../shared/log/log-backend.js';
import type { CheckpointResult } from '../../runtime/checkpointer.js';
import { createJobFixture, generateEvents, modelCounts, outputsByKey, readTopic, stateCounts } from './job-fixture.js';
import { waitFor } from '../server/served-job.js';

t.test('a running at-least-once job checkpoints one slice of its partitions at a time', async (t) => {
  // 4 partitions, a 1 s interval: four slices of one partition, 250 ms apart.
  const fixture = await createJobFixture(t.testdir(), { partitions: 4, commitInterval: 1 });
  const config = { ...(await fixture.config()), workers: 2 };
  const backend = await LocalLogBackend.open(fixture.logPath);
  const events: AppendRecord[] = [];
  const whileRunning: CheckpointResult[] = [];
  const stop = new AbortController();
  let processed = (): number => 0;
  try {
    await backend.createTopic('events', 4);
    const producer = await backend.producer();
    const app = await App.create(config, backend);
    const run = app.run({
      signal: stop.signal,
      log: () => undefined,
      onRunning: (parts) => {
        processed = () => parts.router.processed();
        parts.checkpointer.onCheckpoint((result) => {
          if (!stop.signal.aborted) whileRunning.push(result);
        });
      },
    });
    // Input keeps arriving until every partition was committed twice by slices.
    const committedTwice = (): boolean => {
      const times = new Map<number, number>();
      for (const r of whileRunning) for (const o of r.committedOffsets) times.set(o.partition, (times.get(o.partition) ?? 0) + 1);
      return [0, 1, 2, 3].every((p) => (times.get(p) ?? 0) >= 2);
    };
    for (let chunk = 0; !committedTwice(); chunk++) {
      if (chunk >= 2_000) throw new Error(`checkpoints while running: ${JSON.stringify(whileRunning.map((r) => r.partitions))}`);
      const records = generateEvents(500, 300, chunk + 1, events.length);
      events.push(...records);
      await producer.append(records);
      await waitFor(() => processed() >= events.length, `${events.length} records processed`);
    }
    await producer.close();
    stop.abort();
    const summary = await run;
    t.equal(summary.records, events.length, 'every record processed once');
    t.ok(
      whileRunning.every((r) => r.partitions === 1),
      `each checkpoint while running covered one partition (${whileRunning.map((r) => r.partitions).join(',')})`,
    );
  } finally {
    await backend.close();
  }

  const model = modelCounts(events);
  t.same(await stateCounts(config), model, 'state equals the model');
  const seen = outputsByKey(await readTopic(fixture.logPath, 'counts'));
  let exact = true;
  for (const [key, count] of model) {
    const values = seen.get(key) ?? [];
    if (values.length !== count || values.some((v, i) => v !== i + 1)) exact = false;
  }
  t.ok(exact, 'every key emitted 1..count once (a clean stop repeats nothing)');
  const rerun = await runJob(config, { untilIdle: true });
  t.equal(rerun.records, 0, 'every partition committed to its end');
});
