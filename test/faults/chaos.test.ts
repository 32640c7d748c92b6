/**
 * Chaos (hardening issue): a count job under exactly-once is stopped 25 times at random
 * moments from start-up on — 20 SIGKILLs and 5 SIGTERMs — and restarted each time, then
 * run until idle. A SIGTERM must always end the run cleanly (exit 0); the final state must
 * equal a model and every output must appear exactly once, in order.
 */
import t from 'tap';
import { killAtRandomMoments } from '../cli/fixtures/run-weir.js';
import { runJob } from '../../runtime/job-runner.js';
import { appendEvents, createJobFixture, generateEvents, modelCounts, outputsByKey, readTopic, stateCounts } from '../runtime/job-fixture.js';

t.test('20 SIGKILLs and 5 SIGTERMs at random moments, exactly-once: exact state, every output once', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { processingGuarantee: 'exactly-once', commitInterval: 0.2 });
  const events = generateEvents(300_000, 3_000, 77);
  await appendEvents(fixture, events);

  // Every fifth run gets SIGTERM; the moments start at 150 ms, in the middle of start-up.
  const runs = await killAtRandomMoments(fixture.configPath, {
    runs: 25,
    seed: 2026,
    minMs: 150,
    spreadMs: 1_500,
    signalOf: (run) => (run % 5 === 4 ? 'SIGTERM' : 'SIGKILL'),
  });
  for (const run of runs) {
    if (!run.killed || run.signal === 'SIGTERM') t.equal(run.code, 0, `a ${run.killed ? 'SIGTERM' : 'finished'} run exits 0: ${run.stderr.trim().split('\n').pop() ?? ''}`);
  }
  t.ok(runs.filter((r) => r.killed && r.signal === 'SIGKILL').length >= 10, 'the job was killed with SIGKILL mid-run, again and again');

  const config = { ...(await fixture.config()), workers: 2 };
  await runJob(config, { untilIdle: true });
  const model = modelCounts(events);
  t.same(await stateCounts(config), model, 'state equals the model');

  const outputs = await readTopic(fixture.logPath, 'counts');
  t.equal(outputs.length, events.length, 'one output per input record, no duplicates');
  const seen = outputsByKey(outputs);
  let exact = true;
  for (const [key, count] of model) {
    const values = seen.get(key) ?? [];
    if (values.length !== count || values.some((v, i) => v !== i + 1)) exact = false;
  }
  t.ok(exact, 'every key emitted 1..count exactly once, in order');
});
