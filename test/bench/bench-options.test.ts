import t from 'tap';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig } from '../../config/index.js';
import { readBenchSection, resolveBenchOptions } from '../../bench/engine/bench-options.js';
import { BENCH_DEFAULTS, defaultWorkerCounts } from '../../bench/engine/bench-defaults.js';
import { createBenchJob } from './fixtures/bench-job.js';

t.test('the config bench section is accepted by loadConfig and read with paths relative to the config file', async (t) => {
  const job = await createBenchJob(t.testdir(), [
    'bench:',
    '  records: 5000',
    '  workers: [1, 3]',
    '  input:',
    '    keys: 77',
    '    distribution: zipf',
    '    zipfExponent: 1.2',
    '    value: { amount: "{{random}}" }',
    '    eventsPerSecond: 10',
    '    disorderMs: 250',
    '    seed: 9',
  ]);
  const config = await loadConfig(job.config);
  t.equal(config.appId, 'bench-test', 'the rest of the config loads as before');
  const options = resolveBenchOptions(job.config, await readBenchSection(job.config), {});
  t.same(options.workers, [1, 3]);
  t.same(options.input, {
    kind: 'generated',
    records: 5000,
    keys: 77,
    distribution: 'zipf',
    zipfExponent: 1.2,
    value: { amount: '{{random}}' },
    eventsPerSecond: 10,
    disorderMs: 250,
    startTimestamp: BENCH_DEFAULTS.startTimestamp,
    seed: 9,
  });

  const withFile = await createBenchJob(join(t.testdirName, 'file-job'), ['bench:', '  input: { file: ./data/in.jsonl }']);
  const fileOptions = resolveBenchOptions(withFile.config, await readBenchSection(withFile.config), {});
  t.same(fileOptions.input, { kind: 'file', path: join(withFile.dir, 'data', 'in.jsonl') }, 'relative to the config file');
});

t.test('flags win over the config section; a source flag replaces the configured source', async (t) => {
  const job = await createBenchJob(t.testdir(), ['bench:', '  records: 5000', '  workers: [4]', '  input: { generator: ./gen.mjs, keys: 5 }']);
  const section = await readBenchSection(job.config);
  t.same(resolveBenchOptions(job.config, section, {}).input, { kind: 'module', path: join(job.dir, 'gen.mjs'), records: 5000, keys: 5, seed: 42 });

  const flagged = resolveBenchOptions(job.config, section, { records: 10, keys: 3, workers: [2, 1], input: 'x.jsonl' });
  t.same(flagged.workers, [2, 1]);
  t.same(flagged.input, { kind: 'file', path: resolve('x.jsonl'), limit: 10 }, '--input replaces the configured generator, relative to the cwd');

  const generatedFlags = resolveBenchOptions(job.config, { records: 5 }, { distribution: 'zipf', keys: 8 });
  t.match(generatedFlags.input, { kind: 'generated', records: 5, keys: 8, distribution: 'zipf' });
});

t.test('without flags or section: documented defaults, worker counts doubling up to the cores', async (t) => {
  const job = await createBenchJob(t.testdir());
  const options = resolveBenchOptions(job.config, await readBenchSection(job.config), {});
  t.same(options.workers, defaultWorkerCounts());
  t.match(options.input, { kind: 'generated', records: BENCH_DEFAULTS.records, keys: BENCH_DEFAULTS.keys, distribution: 'uniform' });
  t.same(defaultWorkerCounts(1), [1]);
  t.same(defaultWorkerCounts(2), [1, 2]);
  t.same(defaultWorkerCounts(6), [1, 2, 4, 6]);
  t.same(defaultWorkerCounts(8), [1, 2, 4, 8]);
  t.ok(options.workers.includes(availableParallelism()));
});

t.test('a bad bench section is a config error naming the field', async (t) => {
  const cases: [string[], RegExp][] = [
    [['bench:', '  input: { keyz: 5 }'], /bench\.input.*keyz/],
    [['bench:', '  workers: [0]'], /bench\.workers\[0\]/],
    [['bench:', '  input: { distribution: pareto }'], /bench\.input\.distribution/],
    [['bench:', '  input: { file: a.jsonl, generator: g.mjs }'], /bench\.input\.file: give either "file" or "generator", not both/],
  ];
  const base = t.testdir();
  for (const [index, [lines, message]] of cases.entries()) {
    const job = await createBenchJob(join(base, `case-${index}`), lines);
    const error = await loadConfig(job.config).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.type(error, ConfigError, lines.join(' '));
    t.match((error as Error | undefined)?.message, message);
  }
});

t.test('WEIR_BENCH__… variables override the bench section like any other field; a bad one names the variable', async (t) => {
  const job = await createBenchJob(t.testdir(), ['bench:', '  records: 5000', '  workers: [4]', '  input: { keys: 5, distribution: uniform }']);
  const env = { WEIR_BENCH__RECORDS: '500', WEIR_BENCH__WORKERS: '1,2', WEIR_BENCH__INPUT__KEYS: '7', WEIR_BENCH__INPUT__DISTRIBUTION: 'zipf' };
  const section = await readBenchSection(job.config, env);
  t.equal(section.records, 500);
  t.same(section.workers, [1, 2]);
  t.equal(section.input?.keys, 7);
  t.equal(section.input?.distribution, 'zipf', 'the rest of the file section is kept');
  const options = resolveBenchOptions(job.config, section, {});
  t.same(options.workers, [1, 2]);
  t.match(options.input, { kind: 'generated', records: 500, keys: 7, distribution: 'zipf' });

  const unchanged = await readBenchSection(job.config, {});
  t.equal(unchanged.records, 5000, 'without the variables, the file');

  const error = await readBenchSection(job.config, { WEIR_BENCH__RECORDS: 'many' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(error, ConfigError);
  t.match((error as Error).message, /bench\.records.*\(from WEIR_BENCH__RECORDS\)/);
  const typo = await readBenchSection(job.config, { WEIR_BENCH__RECORD: '5' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(typo, ConfigError, 'a misspelt bench variable is an error, not ignored');
  t.match((typo as Error).message, /WEIR_BENCH__RECORD names no config field/);
  await t.resolves(readBenchSection(job.config, { WEIR_BENCH_SCRATCH: '1' }), 'WEIR_BENCH_ with one underscore stays reserved');
});
