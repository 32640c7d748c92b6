/**
 * Under the skip policy a record that fails while feeding a window leaves no trace in
 * any window (docs/semantics.md, error policies): the results equal those of the same
 * input without that record.
 */
import t from 'tap';
import { join } from 'node:path';
import { runJob } from '../../runtime/job-runner.js';
import { decodeJson, readTopic } from '../runtime/job-fixture.js';
import { appendReadings, createWindowJob, definitionModule, windowsModule } from './fixtures/window-job.js';
import type { ModelEvent } from './fixtures/window-model.js';

t.setTimeout(300_000);

/**
 * Hopping windows of 4 s every 1 s; the reducer throws on a reading of −1 in a window
 * already holding one value (after updating the windows before it), the initializer on
 * −2 (after the record's clock has closed and deleted the older windows).
 */
const PIPELINE = `
import { definePipeline } from ${JSON.stringify(definitionModule)};
import { hoppingWindow, count, reduce } from ${JSON.stringify(windowsModule)};
export default definePipeline({
  windows: {
    guarded: hoppingWindow({
      durationMs: 4000, stepMs: 1000,
      aggregate: {
        n: count(),
        values: reduce(
          (a, r) => { if (r.celsius === -1 && a.length === 1) throw new Error('refused'); return [...a, r.celsius]; },
          (r) => { if (r.celsius === -2) throw new Error('refused'); return [r.celsius]; },
        ),
      },
      emit: 'final',
      to: 'averages',
    }),
  },
});
`;

async function results(dir: string, events: readonly ModelEvent[]): Promise<string[]> {
  const job = await createWindowJob(dir, { pipeline: PIPELINE });
  await appendReadings(job, events);
  const base = await job.config();
  await runJob({ ...base, workers: 1, errors: { ...base.errors, policy: 'skip' } }, { untilIdle: true });
  return (await readTopic(job.logPath, 'averages')).map((r) => JSON.stringify([decodeJson(r.key), decodeJson(r.value)])).sort();
}

const BASE: readonly ModelEvent[] = [
  { key: 's', value: 10, timestamp: 10_000 },
  { key: 's', value: 11, timestamp: 11_000 },
];

for (const { name, bad, closer, same } of [
  {
    name: 'a record failing in the middle of its windows leaves none of them changed',
    bad: { key: 's', value: -1, timestamp: 12_000 },
    closer: { key: 's', value: 12, timestamp: 30_000 },
    same: 'the failed record changed no window',
  },
  {
    name: 'a record failing after its clock closed windows leaves them open and unemitted',
    bad: { key: 's', value: -2, timestamp: 30_000 },
    closer: { key: 's', value: 12, timestamp: 60_000 },
    same: 'the windows the failed record closed were closed once, by the next record',
  },
]) {
  t.test(name, async (t) => {
    const dir = t.testdir({ failing: {}, clean: {} });
    const withBad = await results(join(dir, 'failing'), [...BASE, bad, closer]);
    const without = await results(join(dir, 'clean'), [...BASE, closer]);
    t.ok(without.length > 0, 'windows closed and emitted');
    t.same(withBad, without, same);
  });
}
