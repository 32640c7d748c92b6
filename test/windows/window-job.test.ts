import t from 'tap';
import { runJob } from '../../runtime/job-runner.js';
import { clearState, dumpState } from '../../runtime/state-inspection.js';
import { decodeJson, readTopic } from '../runtime/job-fixture.js';
import { appendReadings, createWindowJob, generateReadings, WINDOW } from './fixtures/window-job.js';
import { timeWindowModel, type ModelEvent } from './fixtures/window-model.js';

t.setTimeout(300_000);

/** The model's results as the job emits them: key, start, end, n, total, values. */
function expected(events: readonly ModelEvent[]): string[] {
  return timeWindowModel(events, WINDOW.durationMs, WINDOW.stepMs, WINDOW.graceMs)
    .map((r) => JSON.stringify([r.key, r.start, r.end, r.values.length, r.values.reduce((a, b) => a + b, 0), r.values]))
    .sort();
}

async function emitted(logPath: string): Promise<string[]> {
  const records = await readTopic(logPath, 'averages');
  return records
    .map((r) => {
      const v = decodeJson(r.value) as { start: number; end: number; n: number; total: number; values: number[] };
      if (r.timestamp !== v.start) throw new Error(`timestamp ${r.timestamp} is not the window start ${v.start}`);
      return JSON.stringify([decodeJson(r.key), v.start, v.end, v.n, v.total, v.values]);
    })
    .sort();
}

async function windowState(config: Awaited<ReturnType<Awaited<ReturnType<typeof createWindowJob>>['config']>>): Promise<string[]> {
  const entries: string[] = [];
  for await (const e of dumpState(config, 'temperature_hopping_window_10000_2000')) entries.push(JSON.stringify(e));
  return entries;
}

for (const workers of [1, 2]) {
  t.test(`a hopping-window job emits exactly the model's final windows (${workers} worker(s))`, async (t) => {
    const job = await createWindowJob(t.testdir());
    const events = generateReadings(4_000, 5, workers);
    await appendReadings(job, events);
    const config = { ...(await job.config()), workers };
    const summary = await runJob(config, { untilIdle: true });
    t.equal(summary.records, events.length);
    const model = expected(events);
    t.ok(model.length > 100, 'the stream closes many windows');
    t.same(await emitted(job.logPath), model);
  });
}

t.test('state cleared between runs is rebuilt from the changelog and the windows continue', async (t) => {
  const job = await createWindowJob(t.testdir());
  const events = generateReadings(3_000, 4, 9);
  await appendReadings(job, events.slice(0, 1_500));
  const config = { ...(await job.config()), workers: 2 };
  await runJob(config, { untilIdle: true });
  const before = await windowState(config);
  t.ok(before.length > 0, 'open windows in state');

  await clearState(config);
  const rebuilt = await runJob(config, { untilIdle: true });
  t.equal(rebuilt.records, 0, 'nothing reprocessed');
  t.ok(rebuilt.recoveredRecords > 0, 'state replayed from the changelog');
  t.same(await windowState(config), before, 'identical window state');

  await appendReadings(job, events.slice(1_500));
  await runJob(config, { untilIdle: true });
  t.same(await emitted(job.logPath), expected(events), 'windows spanning the restart are complete');
});

t.test('emit "current": every update goes out; records without a key are not windowed; process still runs', async (t) => {
  const { definitionModule, windowsModule } = await import('./fixtures/window-job.js');
  const job = await createWindowJob(t.testdir(), {
    pipeline: `
import { definePipeline } from ${JSON.stringify(definitionModule)};
import { tumblingWindow, sum } from ${JSON.stringify(windowsModule)};
export default definePipeline({
  stores: { seen: {} },
  windows: { totals: tumblingWindow({ durationMs: 1000, aggregate: sum((r) => r.celsius), emit: 'current', to: 'averages' }) },
  process(record, context) {
    if (record.key === undefined || record.key === null) context.emit('averages', { key: 'unkeyed', value: record.value });
  },
});`,
  });
  const { LocalLogBackend } = await import('../../shared/log/local/local-log-backend.js');
  const backend = await LocalLogBackend.open(job.logPath);
  await backend.createTopic('readings', 4);
  const producer = await backend.producer();
  const rows: [string | null, number, number][] = [
    ['a', 1, 100],
    ['a', 2, 500],
    [null, 7, 600],
    ['a', 4, 1200],
    ['b', 8, 50],
  ];
  await producer.append(rows.map(([key, celsius, timestamp]) => ({ topic: 'readings', key: key === null ? null : Buffer.from(JSON.stringify(key)), value: Buffer.from(JSON.stringify({ celsius })), timestamp })));
  await producer.close();
  await backend.close();
  await runJob({ ...(await job.config()), workers: 1 }, { untilIdle: true });
  const out = (await readTopic(job.logPath, 'averages')).map((r) => [decodeJson(r.key), decodeJson(r.value), r.timestamp]);
  const sorted = out.sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
  t.same(sorted, [
    ['a', { start: 0, end: 1000, value: 1 }, 0],
    ['a', { start: 0, end: 1000, value: 3 }, 0],
    ['a', { start: 1000, end: 2000, value: 4 }, 1000],
    ['b', { start: 0, end: 1000, value: 8 }, 0],
    ['unkeyed', { celsius: 7 }, 600],
  ]);
});
