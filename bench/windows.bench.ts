/**
 * Windowed jobs end to end on the local log, beside the count job in the same run:
 * a hopping window (10 s size, 1 s step: every record updates 10 windows) and a
 * session window (5 s inactivity gap), each averaging one field per key, final results
 * to an output topic. Each job runs through the `weir bench` engine with workers = 1
 * and 2 (fresh state per run, a child process per run, recovery measured after
 * dropping the state). Prints one JSON document.
 *
 *   node dist/bench/windows.bench.js [--records N] [--keys K]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runBench } from '../runtime/bench/bench-runner.js';
import type { GeneratedInputSpec } from '../runtime/bench/bench-options.js';
import { countPipelineSource } from '../examples/count/count-pipeline-source.js';

const { values } = parseArgs({
  options: { records: { type: 'string', default: '200000' }, keys: { type: 'string', default: '1000' } },
});
const RECORDS = Number(values.records);
const KEYS = Number(values.keys);
const PARTITIONS = 8;

const windowsModule = fileURLToPath(new URL('../shared/pipeline/windows.js', import.meta.url));
const definitionModule = fileURLToPath(new URL('../shared/pipeline/pipeline-definition.js', import.meta.url));

const PIPELINES: Record<string, string> = {
  count: countPipelineSource('out'),
  'hopping-10s-1s': `
import { definePipeline } from ${JSON.stringify(definitionModule)};
import { hoppingWindow, mean } from ${JSON.stringify(windowsModule)};
export default definePipeline({
  windows: { avg: hoppingWindow({ durationMs: 10000, stepMs: 1000, aggregate: mean((v) => v.x), emit: 'final', to: 'out' }) },
});`,
  'session-5s': `
import { definePipeline } from ${JSON.stringify(definitionModule)};
import { sessionWindow, mean } from ${JSON.stringify(windowsModule)};
export default definePipeline({
  windows: { avg: sessionWindow({ inactivityGapMs: 5000, aggregate: mean((v) => v.x), emit: 'final', to: 'out' }) },
});`,
};

/**
 * One record per ms of event time over KEYS uniform keys: each key sees a record about
 * every KEYS ms, so with 1,000 keys a key's hopping windows close about every second and
 * its sessions (5 s gap) only split where the random spacing exceeds the gap.
 */
const INPUT: GeneratedInputSpec = {
  kind: 'generated',
  records: RECORDS,
  keys: KEYS,
  distribution: 'uniform',
  zipfExponent: 1,
  value: { x: '{{random}}' },
  eventsPerSecond: 1_000,
  disorderMs: 0,
  startTimestamp: 1_700_000_000_000,
  seed: 7,
};

async function writeJob(dir: string, name: string): Promise<string> {
  const jobDir = join(dir, name);
  const { mkdir } = await import('node:fs/promises');
  await mkdir(jobDir, { recursive: true });
  await writeFile(join(jobDir, 'pipeline.mjs'), PIPELINES[name]!);
  const configPath = join(jobDir, 'weir.yaml');
  await writeFile(
    configPath,
    [
      `appId: bench-${name}`,
      'log: { backend: local, path: ./log }',
      'state: { dir: ./state }',
      'input: { topics: [events] }',
      'output: { topics: [out] }',
      'pipeline: ./pipeline.mjs',
      `partitions: ${PARTITIONS}`,
    ].join('\n'),
  );
  return configPath;
}

const dir = await mkdtemp(join(tmpdir(), 'weir-bench-windows-'));
try {
  const jobs: Record<string, unknown> = {};
  for (const name of Object.keys(PIPELINES)) {
    const report = await runBench({ configPath: await writeJob(dir, name), workers: [1, 2], input: INPUT });
    const runs: Record<string, unknown> = {};
    for (const run of report.runs) {
      runs[`workers${run.workers}`] = {
        records: run.records,
        seconds: run.seconds,
        recordsPerSecond: Math.round(run.recordsPerSecond),
        outputRecords: run.outputRecords,
        changelogRecords: run.changelog.records,
        workerCpuSeconds: run.cpu.workers.map((w) => w.seconds),
        peakRssBytes: run.peakRssBytes,
        recoveryRecordsPerSecond: run.recovery.recordsPerSecond === null ? null : Math.round(run.recovery.recordsPerSecond),
      };
    }
    jobs[name] = runs;
    process.stderr.write(`weir bench windows: ${name} done\n`);
  }
  process.stdout.write(JSON.stringify({ bench: 'windows', records: RECORDS, keys: KEYS, partitions: PARTITIONS, jobs }, null, 2) + '\n');
} finally {
  await rm(dir, { recursive: true, force: true });
}
