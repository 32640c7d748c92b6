/**
 * Bad sizes (issue 12, items 3 and 7): partition and worker counts are bounded
 * (MAX_PARTITIONS, MAX_WORKERS in config/defaults.ts) wherever they are given — the
 * config file, `WEIR_…` variables, command-line options — and checked before anything
 * is written, with an error naming the field or option instead of an out-of-memory
 * abort or a RangeError.
 */
import t from 'tap';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, MAX_PARTITIONS, MAX_WORKERS, parseConfig } from '../../config/index.js';
import { runWeir } from '../cli/fixtures/run-weir.js';

t.setTimeout(300_000);

const minimal = { appId: 'bounds', input: { topics: ['events'] }, pipeline: './pipeline.mjs' };

function issuesOf(raw: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseConfig({ ...minimal, ...raw }, 'weir.yaml', '/jobs', env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  return '';
}

t.test('the bounds', async (t) => {
  t.equal(MAX_PARTITIONS, 10_000);
  t.equal(MAX_WORKERS, 1024);
});

t.test('config partitions and workers are bounded, in the file and from the environment', async (t) => {
  t.equal(issuesOf({ partitions: MAX_PARTITIONS, workers: MAX_WORKERS }), '', 'the bounds themselves are fine');
  t.match(issuesOf({ partitions: MAX_PARTITIONS + 1 }), `partitions: expected a value ≤ ${MAX_PARTITIONS}, got ${MAX_PARTITIONS + 1}`);
  t.match(issuesOf({ partitions: 2 ** 31 }), /partitions: expected a value ≤ 10000, got 2147483648/);
  t.match(issuesOf({}, { WEIR_PARTITIONS: '2147483648' }), /partitions: expected a value ≤ 10000, got 2147483648 \(from WEIR_PARTITIONS\)/);
  t.match(issuesOf({ workers: 1000 + MAX_WORKERS }), /workers: expected a value ≤ 1024, got 2024/);
  t.match(issuesOf({}, { WEIR_WORKERS: '99999999999' }), /workers: expected a value ≤ 1024, got 99999999999 \(from WEIR_WORKERS\)/);
  t.match(issuesOf({ workers: 0 }), /workers: expected a value ≥ 1, got 0/);
  t.match(issuesOf({ bench: { workers: [1, 5000] } }), /bench\.workers\[1\]: expected a value ≤ 1024, got 5000/);
});

async function jobDir(dir: string): Promise<string> {
  const config = join(dir, 'weir.yaml');
  await writeFile(config, 'appId: bounds\nlog: { backend: local, path: ./log }\ninput: { topics: [events] }\npipeline: ./pipeline.mjs\n');
  await writeFile(join(dir, 'pipeline.mjs'), 'export default { process() {} };\n');
  return config;
}

t.test('weir produce: --partitions and WEIR_PARTITIONS out of bounds fail before the log is touched', async (t) => {
  const dir = t.testdir();
  const config = await jobDir(dir);
  const input = '{"key": "a", "value": 1}\n';
  const option = await runWeir(['produce', '-c', config, '--topic', 'events', '--partitions', '2147483648'], { input });
  t.equal(option.code, 1);
  t.match(option.stderr, /option '-p, --partitions <n>' argument '2147483648' is invalid\. expected an integer from 1 to 10000, got "2147483648"/);
  const env = await runWeir(['produce', '-c', config, '--topic', 'events'], { input, env: { WEIR_PARTITIONS: '2147483648' } });
  t.equal(env.code, 1);
  t.match(env.stderr, /^weir: config error in .*: partitions: expected a value ≤ 10000, got 2147483648 \(from WEIR_PARTITIONS\)\n$/);
  t.same((await readdir(dir)).sort(), ['pipeline.mjs', 'weir.yaml'], 'no log directory was created');
});

t.test('weir run --workers 99999999999 is an error naming the option, not a RangeError', async (t) => {
  const dir = t.testdir();
  const config = await jobDir(dir);
  const result = await runWeir(['run', '-c', config, '--until-idle', '--workers', '99999999999']);
  t.equal(result.code, 1);
  t.match(result.stderr, /option '-w, --workers <n>' argument '99999999999' is invalid\. expected an integer from 1 to 1024/);
  t.notMatch(result.stderr, /RangeError|unexpected error/);
  const bench = await runWeir(['bench', '-c', config, '--workers', '1,99999']);
  t.equal(bench.code, 1);
  t.match(bench.stderr, /expected worker counts from 1 to 1024 separated by commas .*"99999" is not one/);
  t.same((await readdir(dir)).sort(), ['pipeline.mjs', 'weir.yaml'], 'nothing was written');
});
