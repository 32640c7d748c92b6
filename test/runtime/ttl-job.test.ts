/**
 * Per-write TTL in a running job (a deduplication pipeline on the local log): outputs and
 * state equal a model of the TTL semantics, expired ids are tombstoned on the changelog, a
 * rebuild from the changelog brings none back, and under exactly-once a job killed at
 * random moments emits exactly the model's records.
 */
import t from 'tap';
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { runJob } from '../../runtime/job-runner.js';
import { clearState, dumpState } from '../../runtime/state-inspection.js';
import type { WeirConfig } from '../../config/index.js';
import { killAtRandomMoments } from '../cli/fixtures/run-weir.js';
import { appendEvents, createJobFixture, decodeJson, readTopic, type JobFixture } from './job-fixture.js';
import { dedupModel, dedupPipelineSource, generateDuplicates, storedSeenEntries } from './fixtures/dedup-job.js';

t.setTimeout(600_000);

const TTL_MS = 2_000;
const DEDUP_PIPELINE = dedupPipelineSource('unique', TTL_MS);
const CHANGELOG = 'changelog__test-count--events--seen';

async function emitted(fixture: JobFixture): Promise<string[]> {
  return (await readTopic(fixture.logPath, 'unique'))
    .map((r) => `${decodeJson(r.key) as string}:${JSON.stringify((decodeJson(r.value) as { n: number }).n)}`)
    .sort();
}

async function liveState(config: WeirConfig): Promise<string[]> {
  const entries: string[] = [];
  for await (const e of dumpState(config, 'seen')) entries.push(`${e.partition}:${e.key as string}:${e.expiresAt}`);
  return entries.sort();
}

async function dedupJob(dir: string, guarantee: 'at-least-once' | 'exactly-once'): Promise<JobFixture> {
  await mkdir(dir, { recursive: true });
  return createJobFixture(dir, { pipeline: DEDUP_PIPELINE, outputTopics: ['unique'], processingGuarantee: guarantee, commitInterval: 0.2, commitEvery: 500 });
}

t.test('dedup job: outputs and state equal the model, expired ids are tombstoned, a rebuild resurrects none', async (t) => {
  const fixture = await dedupJob(join(t.testdir(), 'job'), 'at-least-once');
  await appendEvents(fixture, generateDuplicates(8_000, 4_000, 5));
  const config = { ...(await fixture.config()), workers: 2 };
  await runJob(config, { untilIdle: true });
  let model = dedupModel(await readTopic(fixture.logPath, 'events'), TTL_MS, (v) => (v as { n: number }).n);
  t.ok(model.emitted.length > 4_000 && model.emitted.length < 8_000, `${model.emitted.length} of 8000 events are first sightings`);
  t.same(await emitted(fixture), model.emitted, 'emitted exactly the first sightings');
  const live = await liveState(config);
  t.same(live, model.live, 'state holds exactly the ids still remembered');

  const changelog = await readTopic(fixture.logPath, CHANGELOG);
  // Compaction keeps only the latest record per key, so count keys whose latest is a tombstone.
  const tombstones = changelog.filter((r) => r.value === null).length;
  t.ok(tombstones > 500, `expired ids are tombstoned on the changelog (${tombstones})`);

  const stored = await storedSeenEntries(config, 'events', 4);
  await clearState(config);
  await runJob(config, { untilIdle: true });
  t.same(await liveState(config), live, 'rebuilt from the changelog: the same ids');
  t.same(await storedSeenEntries(config, 'events', 4), stored, 'and the same stored keys: none resurrected');

  await appendEvents(fixture, generateDuplicates(4_000, 4_000, 6, 8_000));
  await runJob(config, { untilIdle: true });
  model = dedupModel(await readTopic(fixture.logPath, 'events'), TTL_MS, (v) => (v as { n: number }).n);
  t.same(await emitted(fixture), model.emitted, 'after the rebuild the job goes on deduplicating exactly');
  t.same(await liveState(config), model.live);
});

t.test('dedup job killed with SIGKILL at random moments, exactly-once: exactly the model', async (t) => {
  const fixture = await dedupJob(join(t.testdir(), 'crashed'), 'exactly-once');
  await appendEvents(fixture, generateDuplicates(40_000, 2_000, 9));
  const runs = await killAtRandomMoments(fixture.configPath, { runs: 4, seed: 23, minMs: 1_000, spreadMs: 2_500 });
  for (const run of runs.filter((r) => !r.killed)) t.equal(run.code, 0, `a run ended cleanly: ${run.stderr}`);
  const kills = runs.filter((r) => r.killed).length;
  t.ok(kills >= 2, `the job was killed mid-run (${kills} times)`);
  const config = { ...(await fixture.config()), workers: 2 };
  await runJob(config, { untilIdle: true });
  const model = dedupModel(await readTopic(fixture.logPath, 'events'), TTL_MS, (v) => (v as { n: number }).n);
  const outputs = await emitted(fixture);
  t.equal(outputs.length, model.emitted.length, 'nothing emitted twice or lost');
  t.same(outputs, model.emitted, 'exactly the model');
  t.same(await liveState(config), model.live, 'state equals the model');
});
