/**
 * Crash test: a job is killed with SIGKILL at random moments while processing, restarted
 * each time, and finally run until idle. Its state must equal the model exactly; under
 * exactly-once the output topic must also hold every result exactly once.
 */
import t from 'tap';
import { killAtRandomMoments } from '../cli/fixtures/run-weir.js';
import { runJob } from '../../runtime/job-runner.js';
import {
  appendEvents,
  createJobFixture,
  outputsByKey,
  generateEvents,
  modelCounts,
  readTopic,
  stateCounts,
} from './job-fixture.js';


// At-least-once with a 1 s interval checkpoints its 4 partitions in slices, one at a time
// (docs/semantics.md §8.2); with 0.3 s, all at once (no room for slices 250 ms apart).
const CASES = [
  { guarantee: 'at-least-once', commitInterval: 0.3, eventSeed: 22, killSeed: 6, what: '' },
  { guarantee: 'at-least-once', commitInterval: 1, eventSeed: 23, killSeed: 7, what: ', checkpoints in slices' },
  { guarantee: 'exactly-once', commitInterval: 0.3, eventSeed: 21, killSeed: 5, what: '' },
] as const;

for (const { guarantee, commitInterval, eventSeed, killSeed, what } of CASES) {
  t.test(`SIGKILL at random moments, ${guarantee}${what}: final state equals the model`, async (t) => {
    const fixture = await createJobFixture(t.testdir(), { processingGuarantee: guarantee, commitInterval });
    const events = generateEvents(200_000, 5_000, eventSeed);
    await appendEvents(fixture, events);

    const runs = await killAtRandomMoments(fixture.configPath, { runs: 5, seed: killSeed, minMs: 800, spreadMs: 2500 });
    for (const run of runs.filter((r) => !r.killed)) t.equal(run.code, 0, `a run ended cleanly: ${run.stderr}`);
    const kills = runs.filter((r) => r.killed).length;
    t.ok(kills >= 3, `the job was killed mid-run (${kills} times)`);

    const config = { ...(await fixture.config()), workers: 2 };
    await runJob(config, { untilIdle: true });
    const model = modelCounts(events);
    t.same(await stateCounts(config), model, 'state equals the model');

    const outputs = await readTopic(fixture.logPath, 'counts');
    const seen = outputsByKey(outputs);
    if (guarantee === 'exactly-once') {
      t.equal(outputs.length, events.length, 'one output per input record, no duplicates');
      let exact = true;
      for (const [key, count] of model) {
        const values = seen.get(key) ?? [];
        if (values.length !== count || values.some((v, i) => v !== i + 1)) exact = false;
      }
      t.ok(exact, 'every key emitted 1..count exactly once, in order');
    } else {
      t.ok(outputs.length >= events.length, 'at-least-once: no output lost');
      let complete = true;
      for (const [key, count] of model) {
        const values = new Set(seen.get(key) ?? []);
        for (let v = 1; v <= count; v++) if (!values.has(v)) complete = false;
      }
      t.ok(complete, 'every count 1..n of every key was emitted at least once');
    }
  });
}
