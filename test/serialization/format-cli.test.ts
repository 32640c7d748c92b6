/**
 * `weir produce`, `weir topic dump` and `weir state dump` with formats: the topic's
 * configured formats by default, `--key-format` / `--value-format` to override.
 */
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runWeir } from '../cli/fixtures/run-weir.js';
import { readTopic } from '../runtime/job-fixture.js';
import { formatCountPipeline } from './fixtures/format-job.js';

async function job(dir: string): Promise<string> {
  await writeFile(join(dir, 'pipeline.mjs'), formatCountPipeline('counts'));
  const configPath = join(dir, 'weir.yaml');
  await writeFile(
    configPath,
    [
      'appId: cli-formats',
      'log: { backend: local, path: ./log }',
      'state: { dir: ./state }',
      'input: { topics: [events], keyFormat: string, valueFormat: double }',
      'output: { topics: [counts], keyFormat: string, valueFormat: integer }',
      'pipeline: ./pipeline.mjs',
      'partitions: 2',
      'workers: 1',
    ].join('\n'),
  );
  return configPath;
}

const lines = (...objects: unknown[]) => objects.map((o) => JSON.stringify(o)).join('\n') + '\n';

t.test("produce writes the topic's formats; topic dump and state dump read them", async (t) => {
  const dir = t.testdir();
  const config = await job(dir);
  const produced = await runWeir(['produce', '-c', config, '-t', 'events'], {
    input: lines({ key: 'user-1', value: 1.5 }, { key: 'user-1', value: 2 }, { key: 'user|2', value: -3 }),
  });
  t.equal(produced.code, 0, produced.stderr);
  const records = await readTopic(join(dir, 'log'), 'events');
  t.same(records.map((r) => Buffer.from(r.key!).toString()).sort(), ['user-1', 'user-1', 'user|2'], 'plain string keys');
  t.ok(records.every((r) => r.value!.length === 8), '8-byte doubles');

  const dumped = await runWeir(['topic', 'dump', '-c', config, '-t', 'events']);
  t.equal(dumped.code, 0, dumped.stderr);
  const values = dumped.stdout.trim().split('\n').map((l) => JSON.parse(l) as { key: string; value: number });
  t.same(values.map((v) => `${v.key}=${v.value}`).sort(), ['user-1=1.5', 'user-1=2', 'user|2=-3']);

  const raw = await runWeir(['topic', 'dump', '-c', config, '-t', 'events', '--value-format', 'bytes', '--key-format', 'json']);
  const first = JSON.parse(raw.stdout.split('\n')[0]!) as Record<string, unknown>;
  t.type(first['valueBase64'], 'string', 'bytes print as base64');
  t.match(Buffer.from(first['keyBase64'] as string, 'base64').toString(), /^user/, 'a plain key is not JSON: printed as base64');

  t.equal((await runWeir(['run', '-c', config, '--until-idle'])).code, 0);
  const state = await runWeir(['state', 'dump', '-c', config, '-s', 'counts']);
  const entries = state.stdout.trim().split('\n').map((l) => JSON.parse(l) as { key: string; stateKey: string; value: number });
  t.same(entries.map((e) => `${e.key}:${e.stateKey}=${e.value}`).sort(), ['user-1:count=2', 'user|2:count=1'], 'keys shown as the strings they are, | included');

  const counts = await runWeir(['topic', 'dump', '-c', config, '-t', 'counts']);
  t.same(counts.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { value: number }).value).sort(), [1, 1, 2], 'integer counts read back');
});

t.test('a line the format cannot hold names the line and field; nothing is appended', async (t) => {
  const dir = t.testdir();
  const config = await job(dir);
  const result = await runWeir(['produce', '-c', config, '-t', 'events'], { input: lines({ key: 'a', value: 1 }, { key: 'b', value: 'x' }) });
  t.equal(result.code, 1);
  t.match(result.stderr, /input line 2: value: not double: expected a number, got a string; nothing was appended/);
  const flagged = await runWeir(['produce', '-c', config, '-t', 'raw', '--value-format', 'bytes', '--key-format', 'integer'], {
    input: lines({ key: 7, value: Buffer.from([1, 2, 3]).toString('base64') }),
  });
  t.equal(flagged.code, 0, flagged.stderr);
  const [record] = await readTopic(join(dir, 'log'), 'raw');
  t.same([...record!.key!], [0, 0, 0, 7]);
  t.same([...record!.value!], [1, 2, 3]);
  const registry = await runWeir(['produce', '-c', config, '-t', 'raw', '--value-format', 'avro'], { input: lines({ key: 1, value: 1 }) });
  t.match(registry.stderr, /--value-format: avro needs schemaRegistry in the config/);
});
