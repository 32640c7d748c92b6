import t from 'tap';
import { spawn } from 'node:child_process';
import { access, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runWeir, TEXT_LOGS_ENV, WEIR_MAIN } from '../cli/fixtures/run-weir.js';
import type { BenchReport } from '../../bench/engine/bench-report.js';
import { createBenchJob } from './fixtures/bench-job.js';

// Every bench run forks two job processes with worker threads on a shared 2-core machine.
t.setTimeout(600_000);

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

t.test('weir bench --json --chart: every measure for each worker count, the chart, and the user data untouched', async (t) => {
  const job = await createBenchJob(t.testdir(), ['bench:', '  input: { distribution: zipf, keys: 300 }']);
  const chart = join(job.dir, 'scaling.svg');
  const result = await runWeir(['bench', '-c', job.config, '--records', '2000', '--workers', '1,2', '--json', '--chart', chart]);
  t.equal(result.code, 0, result.stderr);
  t.equal(result.stderr, '', 'no progress output when stderr is not a TTY');

  const report = JSON.parse(result.stdout) as BenchReport;
  t.match(report, {
    bench: 'weir',
    config: job.config,
    appId: 'bench-test',
    backend: 'local',
    partitions: 4,
    input: { source: 'generated', records: 2000, keys: 300, distribution: 'zipf' },
    baselineWorkers: 1,
    chart,
  });
  t.same(report.runs.map((r) => r.workers), [1, 2]);
  for (const run of report.runs) {
    t.test(`${run.workers} worker(s)`, async (t) => {
      t.equal(run.records, 2000, 'every record processed');
      t.equal(run.outputRecords, 2000, 'one count emitted per record, into a fresh output topic');
      t.ok(run.recordsPerSecond > 0 && run.seconds > 0);
      t.ok(run.ratio > 0);
      t.ok(run.cpu.coordinatorSeconds > 0 && run.cpu.processSeconds > 0);
      t.same(run.cpu.workers.map((w) => w.workerId), Array.from({ length: run.workers }, (_, i) => i), 'cpu for each worker thread');
      t.equal(run.cpu.workers.reduce((n, w) => n + w.records, 0), 2000);
      t.ok(run.cpu.workers.every((w) => w.seconds > 0));
      t.ok(run.peakRssBytes > 10 * 1024 * 1024, 'peak RSS of the run process');
      t.ok(run.stateBytes > 0, 'state size on disk');
      t.ok(run.changelog.records > 0 && run.changelog.records <= 2000 && run.changelog.bytes > 0);
      t.equal(run.recovery.records, run.changelog.records, 'recovery replays the whole changelog');
      t.ok(run.recovery.recordsPerSecond !== null && run.recovery.recordsPerSecond > 0);
      t.ok(run.recovery.ratio !== null && run.recovery.ratio > 0);
      t.ok(run.recovery.secondsUntilRecovered! >= run.recovery.seconds!);
      t.ok(run.recovery.peakRssBytes > 0 && run.recovery.stateBytes > 0);
    });
  }
  t.equal(report.runs[0]!.ratio, 1);

  const svg = await readFile(chart, 'utf8');
  t.match(svg, /^<svg/);
  t.match(svg, 'processing (input records/s)');
  t.match(svg, 'recovery (changelog records/s)');

  t.notOk(await exists(job.logPath), "the config's own log was never created");
  t.notOk(await exists(job.stateDir), "the config's own state was never created");
});

t.test('weir bench with a JSON Lines input prints a table', async (t) => {
  const job = await createBenchJob(t.testdir());
  const input = join(job.dir, 'events.jsonl');
  const lines = Array.from({ length: 1500 }, (_, i) => JSON.stringify({ key: `user-${i % 40}`, value: { i } }));
  await writeFile(input, `${lines.join('\n')}\n`);
  const result = await runWeir(['bench', '-c', job.config, '--input', input, '--workers', '1']);
  t.equal(result.code, 0, result.stderr);
  const out = result.stdout.split('\n');
  t.equal(out[0], `weir bench bench-test: 1,500 records (from ${input}), 4 partitions, local log, at-least-once`);
  t.match(out[2], /^workers\s+records\/s\s+vs base\s+recovery rec\/s/);
  t.match(out[3], /^1\s+[\d,]+\s+1\.00x\s+[\d,]+\s+1\.00x\s+[\d.]+\s+[\d.]+\s+[\d.]+ MiB\s+[\d.]+ KiB\s+40 rec, /);
});

t.test('bad flags and inputs fail before any run, naming the flag or the path', async (t) => {
  const job = await createBenchJob(t.testdir());
  const folder = join(job.dir, 'folder');
  await mkdir(folder);
  const bad = join(job.dir, 'bad.jsonl');
  await writeFile(bad, '{"key":"a","value":1}\nnot json\n');
  const missing = join(job.dir, 'missing.jsonl');
  const cases: [string, string[], RegExp | string][] = [
    ['a zero and a non-number worker count', ['--workers', '0,x'], /option '-w, --workers <list>' argument '0,x' is invalid\. .*"0" is not one/],
    ['a repeated worker count', ['--workers', '1,2,1'], /--workers <list>' argument '1,2,1' is invalid\. worker count 1 is listed twice/],
    ['an empty worker count', ['--workers', '1,,2'], /--workers <list>' argument '1,,2' is invalid\. .*"" is not one/],
    ['a non-integer record count', ['--records', '2.5k'], /option '-n, --records <n>' argument '2\.5k' is invalid\. expected an integer ≥ 1/],
    ['zero keys', ['--keys', '0'], /option '-k, --keys <n>' argument '0' is invalid/],
    ['an unknown flag', ['--bogus'], /unknown option '--bogus'/],
    ['an unknown distribution', ['--distribution', 'pareto'], /option '--distribution <kind>' argument 'pareto' is invalid\. Allowed choices are uniform, zipf/],
    ['both --input and --generator', ['--input', bad, '--generator', 'g.mjs'], /option '-i, --input <file>' cannot be used with option '-g, --generator <module>'/],
    ['a missing input file', ['--input', missing], `weir: cannot read bench input file ${missing}: no such file`],
    ['a folder as input file', ['--input', folder], `weir: cannot read bench input file ${folder}: not a file`],
    ['a malformed input line', ['--input', bad], `weir: bench input file ${bad}: input line 2: invalid JSON`],
    ['a chart in a missing folder', ['--chart', join(job.dir, 'no', 'c.svg')], `weir: cannot write chart ${join(job.dir, 'no', 'c.svg')}: its folder does not exist`],
    ['a missing generator module', ['--generator', join(job.dir, 'gen.mjs')], `weir: bench generator ${join(job.dir, 'gen.mjs')}: the file does not exist`],
  ];
  for (const [name, args, message] of cases) {
    const result = await runWeir(['bench', '-c', job.config, ...args]);
    t.equal(result.code, 1, `${name}: exit code 1`);
    t.match(result.stderr, message, name);
    t.equal(result.stdout, '', `${name}: nothing on stdout`);
  }
  const noConfig = await runWeir(['bench']);
  t.match(noConfig.stderr, /required option '-c, --config <file>' not specified/);
  t.notOk(await exists(job.logPath), 'nothing ran');
});

t.test('SIGTERM stops the benchmark and removes its temporary runs', async (t) => {
  const job = await createBenchJob(t.testdir());
  const tmp = join(job.dir, 'tmp');
  await mkdir(tmp);
  const child = spawn(process.execPath, [WEIR_MAIN, 'bench', '-c', job.config, '--records', '2000000', '--workers', '1'], {
    env: { ...process.env, ...TEXT_LOGS_ENV, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  // Wait until the run's folder exists (the input is being produced), then stop it.
  while ((await readdir(tmp)).length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.equal(code, 1);
  t.equal(stderr, 'weir: bench interrupted; no report (temporary runs were removed)\n');
  t.equal(stdout, '');
  t.same(await readdir(tmp), [], 'the temporary folder is gone');
});
