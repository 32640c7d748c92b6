/**
 * Crash test of a windowed job: killed with SIGKILL at random moments, restarted each
 * time, finally run until idle. Under exactly-once the output topic holds exactly the
 * model's final windows, and the window state equals that of an uninterrupted run.
 */
import t from 'tap';
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { runJob } from '../../runtime/job-runner.js';
import { dumpState } from '../../runtime/state-inspection.js';
import type { WeirConfig } from '../../config/index.js';
import { decodeJson, readTopic } from '../runtime/job-fixture.js';
import { killAtRandomMoments } from '../cli/fixtures/run-weir.js';
import { appendReadings, createWindowJob, generateReadings, WINDOW } from './fixtures/window-job.js';
import { timeWindowModel } from './fixtures/window-model.js';

t.setTimeout(600_000);

async function windowState(config: WeirConfig): Promise<string[]> {
  const entries: string[] = [];
  for await (const e of dumpState(config, 'temperature_hopping_window_10000_2000')) entries.push(JSON.stringify([e.partition, e.key, e.stateKey, e.value]));
  return entries.sort();
}

t.test('SIGKILL at random moments, exactly-once: outputs equal the model, state equals an uninterrupted run', async (t) => {
  const events = generateReadings(40_000, 50, 31);
  const dirs = { crashed: join(t.testdir(), 'crashed'), clean: join(t.testdir(), 'clean') };
  await mkdir(dirs.crashed, { recursive: true });
  await mkdir(dirs.clean, { recursive: true });
  const crashed = await createWindowJob(dirs.crashed, { processingGuarantee: 'exactly-once', commitInterval: 0.3 });
  const clean = await createWindowJob(dirs.clean, { processingGuarantee: 'exactly-once', commitInterval: 0.3 });
  await appendReadings(crashed, events);
  await appendReadings(clean, events);

  const runs = await killAtRandomMoments(crashed.configPath, { runs: 5, seed: 17, minMs: 500, spreadMs: 1_500 });
  for (const run of runs.filter((r) => !r.killed)) t.equal(run.code, 0, `a run ended cleanly: ${run.stderr}`);
  const kills = runs.filter((r) => r.killed).length;
  t.ok(kills >= 3, `the job was killed mid-run (${kills} times)`);
  const crashedConfig = { ...(await crashed.config()), workers: 2 };
  await runJob(crashedConfig, { untilIdle: true });
  const cleanConfig = { ...(await clean.config()), workers: 2 };
  await runJob(cleanConfig, { untilIdle: true });

  const model = timeWindowModel(events, WINDOW.durationMs, WINDOW.stepMs, WINDOW.graceMs)
    .map((r) => JSON.stringify([r.key, r.start, r.end, r.values.length, r.values.reduce((a, b) => a + b, 0)]))
    .sort();
  const outputs = (await readTopic(crashed.logPath, 'averages'))
    .map((r) => {
      const v = decodeJson(r.value) as { start: number; end: number; n: number; total: number };
      return JSON.stringify([decodeJson(r.key), v.start, v.end, v.n, v.total]);
    })
    .sort();
  t.ok(model.length > 1000, `${model.length} windows in the model`);
  t.equal(outputs.length, model.length, 'no window emitted twice or lost');
  t.same(outputs, model, 'exactly the model');
  t.same(await windowState(crashedConfig), await windowState(cleanConfig), 'state equals that of an uninterrupted run');
});
