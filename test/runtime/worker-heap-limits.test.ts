/**
 * The workers' heap limits (docs/config.md, `limits.*Generation*`): a worker's young
 * generation is 16 MB for a pipeline without windows and 48 MB for one with windows unless
 * `limits.workerMaxYoungGenerationMb` is set. What each worker thread was given is what its
 * own `worker_threads.resourceLimits` says, read here by the user code.
 */
import t, { type Test } from 'tap';
import { fileURLToPath } from 'node:url';
import { runJob } from '../../runtime/job-runner.js';
import { appendEvents, createJobFixture, decodeJson, generateEvents, readTopic } from './job-fixture.js';

/** Emits its worker's young-generation limit once per record. */
const limitsPipeline = (windows: boolean): string => `
import { resourceLimits } from 'node:worker_threads';
import { tumblingWindow, count } from ${JSON.stringify(fileURLToPath(new URL('../../shared/pipeline/windows.js', import.meta.url)))};
export default {
  ${windows ? "windows: { n: tumblingWindow({ durationMs: 1000, aggregate: count(), emit: 'final', to: 'windows' }) }," : ''}
  process(record, context) {
    context.emit('counts', { key: record.key, value: resourceLimits.maxYoungGenerationSizeMb });
  },
};
`;

async function youngGenerations(t: Test, windows: boolean, extraYaml?: string): Promise<Set<unknown>> {
  const fixture = await createJobFixture(t.testdir(), {
    partitions: 2,
    pipeline: limitsPipeline(windows),
    outputTopics: windows ? ['counts', 'windows'] : ['counts'],
    ...(extraYaml === undefined ? {} : { extraYaml }),
  });
  await appendEvents(fixture, generateEvents(200, 10, 3), 2);
  await runJob({ ...(await fixture.config()), workers: 2 }, { untilIdle: true });
  return new Set((await readTopic(fixture.logPath, 'counts')).map((r) => decodeJson(r.value)));
}

t.test('a pipeline without windows: 16 MB young generation per worker', async (t) => {
  t.same([...(await youngGenerations(t, false))], [16]);
});

t.test('a pipeline with windows: 48 MB (window aggregates outlive a small young generation)', async (t) => {
  t.same([...(await youngGenerations(t, true))], [48]);
});

t.test('limits.workerMaxYoungGenerationMb wins over the pipeline-dependent default', async (t) => {
  t.same([...(await youngGenerations(t, true, 'limits: { workerMaxYoungGenerationMb: 24 }'))], [24]);
});
