import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalLogBackend } from '../../shared/log/local/local-log-backend.js';
import { runWeir } from './fixtures/run-weir.js';

// Each test spawns several CLI processes on a shared 2-core machine: be generous.
t.setTimeout(900_000);

const RECORDS = 100_000;
const KEYS = 1_000;
const PARTITIONS = 8;

async function jobDir(): Promise<{ dir: string; config: string; logPath: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const config = join(dir, 'weir.yaml');
  await writeFile(config, ['appId: cli-test', 'log: { backend: local, path: ./log }', 'input: { topics: [orders] }', 'pipeline: ./pipeline.js', ''].join('\n'));
  return { dir, config, logPath: join(dir, 'log') };
}

interface DumpLine {
  topic: string;
  partition: number;
  offset: number;
  key?: unknown;
  keyBase64?: string;
  value?: unknown;
  valueBase64?: string;
  timestamp: number;
  headers: Record<string, string | null>;
}

function parseDump(stdout: string): DumpLine[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as DumpLine);
}

t.test('--help lists every command', async (t) => {
  const result = await runWeir(['--help']);
  t.equal(result.code, 0);
  for (const command of ['produce', 'topic dump', 'topic list']) t.match(result.stdout, command);
});

t.test('round trip: produce 100k records into 8 partitions, dump gives each back once, per-key order, murmur2 partitions', async (t) => {
  const { dir, config } = await jobDir();
  const input = join(dir, 'orders.jsonl');
  const lines: string[] = [];
  for (let i = 0; i < RECORDS; i += 1) {
    const key = `customer-${i % KEYS}`;
    const seq = Math.floor(i / KEYS);
    const record: Record<string, unknown> = { key, value: { seq, amount: i * 0.5, note: 'ünïcode ✓' } };
    if (i % 10 === 0) record['headers'] = { source: 'test', index: String(i) };
    if (i % 7 === 0) record['timestamp'] = 1_700_000_000_000 + i;
    lines.push(JSON.stringify(record));
  }
  await writeFile(input, `${lines.join('\n')}\n`);

  const produced = await runWeir(['produce', '-c', config, '--topic', 'orders', '--partitions', String(PARTITIONS)], { inputFile: input });
  t.equal(produced.stderr, '', 'quiet when stderr is not a TTY');
  t.equal(produced.code, 0);
  t.equal(produced.stdout, `produced ${RECORDS} records to orders\n`);

  const dumped = await runWeir(['topic', 'dump', '-c', config, '--topic', 'orders']);
  t.equal(dumped.code, 0, dumped.stderr);
  const records = parseDump(dumped.stdout);
  t.equal(records.length, RECORDS, 'every record, no more');

  const scratch = await mkdtemp(join(tmpdir(), 'weir-cli-partitioner-'));
  t.teardown(() => rm(scratch, { recursive: true, force: true }));
  const backend = await LocalLogBackend.open(scratch);
  t.teardown(() => backend.close());

  const seen = new Set<string>();
  const lastSeqOfKey = new Map<string, number>();
  const partitionOfKey = new Map<string, number>();
  let wrongPartition = 0;
  let outOfOrder = 0;
  let duplicates = 0;
  let wrongTopic = 0;
  let lastOffset = -1;
  let lastPartition = -1;
  for (const record of records) {
    if (record.topic !== 'orders') wrongTopic += 1;
    if (record.partition === lastPartition && record.offset <= lastOffset) outOfOrder += 1;
    lastPartition = record.partition;
    lastOffset = record.offset;
    const key = record.key as string;
    const { seq } = record.value as { seq: number };
    const id = `${key}#${seq}`;
    if (seen.has(id)) duplicates += 1;
    seen.add(id);
    if ((lastSeqOfKey.get(key) ?? -1) >= seq) outOfOrder += 1;
    lastSeqOfKey.set(key, seq);
    const expected = backend.partitionFor(new TextEncoder().encode(JSON.stringify(key)), PARTITIONS);
    if (record.partition !== expected) wrongPartition += 1;
    partitionOfKey.set(key, record.partition);
  }
  t.equal(wrongTopic, 0, 'every record names its topic');
  t.equal(duplicates, 0, 'no record twice');
  t.equal(seen.size, RECORDS, 'every (key, seq) once');
  t.equal(outOfOrder, 0, 'offsets ascend per partition and each key keeps its input order');
  t.equal(wrongPartition, 0, 'every key is on its murmur2 partition');
  t.equal(new Set(partitionOfKey.values()).size, PARTITIONS, 'keys spread over all partitions');

  // Fields: a record with headers and a timestamp, one without.
  const first = records.find((r) => r.key === 'customer-0' && (r.value as { seq: number }).seq === 0);
  t.same(first, {
    topic: 'orders',
    partition: first?.partition,
    offset: first?.offset,
    key: 'customer-0',
    value: { seq: 0, amount: 0, note: 'ünïcode ✓' },
    timestamp: 1_700_000_000_000,
    headers: { source: 'test', index: '0' },
  });
  const plain = records.find((r) => r.key === 'customer-1' && (r.value as { seq: number }).seq === 0);
  t.same(plain?.headers, {});
  t.type(plain?.timestamp, 'number');

  // One partition only.
  const partition3 = await runWeir(['topic', 'dump', '-c', config, '--topic', 'orders', '--partition', '3']);
  t.equal(partition3.code, 0);
  const only3 = parseDump(partition3.stdout);
  t.ok(only3.length > 0);
  t.ok(only3.every((r) => r.partition === 3));
  t.equal(only3.length, records.filter((r) => r.partition === 3).length);

  // topic list agrees with the dump.
  const listed = await runWeir(['topic', 'list', '-c', config]);
  t.equal(listed.code, 0);
  const listLines = listed.stdout.trimEnd().split('\n');
  t.equal(listLines[0], `orders: ${PARTITIONS} partitions, ${RECORDS} records`);
  for (let p = 0; p < PARTITIONS; p += 1) {
    const count = records.filter((r) => r.partition === p).length;
    t.equal(listLines[p + 1], `  partition ${p}: low 0, high ${count}`);
  }
  const listedJson = await runWeir(['topic', 'list', '-c', config, '--json']);
  const summary = JSON.parse(listedJson.stdout.trim()) as { topic: string; partitions: number; records: number; watermarks: unknown[] };
  t.equal(summary.topic, 'orders');
  t.equal(summary.partitions, PARTITIONS);
  t.equal(summary.records, RECORDS);
  t.equal(summary.watermarks.length, PARTITIONS);
});

t.test('a malformed line is reported with its number and nothing is appended', async (t) => {
  const { dir, config } = await jobDir();
  const good = (i: number): string => JSON.stringify({ key: `k${i}`, value: i });

  // A fresh topic: not even created.
  const input = join(dir, 'bad.jsonl');
  const lines = Array.from({ length: 5000 }, (_, i) => good(i));
  lines[3141] = '{"key": "k", "value": 1,'; // line 3142: bad JSON
  await writeFile(input, `${lines.join('\n')}\n`);
  const result = await runWeir(['produce', '-c', config, '--topic', 'fresh'], { inputFile: input });
  t.equal(result.code, 1);
  t.match(result.stderr, /^weir: input line 3142: invalid JSON/);
  t.notMatch(result.stderr, /\n\s+at /, 'no stack trace');
  t.equal(result.stdout, '');
  const listed = await runWeir(['topic', 'list', '-c', config]);
  t.equal(listed.stdout, 'no topics\n');

  // An existing topic keeps exactly what it had.
  const first = await runWeir(['produce', '-c', config, '--topic', 'orders', '--partitions', '2'], {
    input: `${good(1)}\n${good(2)}\n`,
  });
  t.equal(first.stdout, 'produced 2 records to orders\n');
  const shapes: [string, RegExp][] = [
    ['{"key": "a", "vlaue": 1}', /input line 3: vlaue: unknown field/],
    ['{"key": "a"}', /input line 3: value: required/],
    ['{"key": "a", "value": 1, "timestamp": "now"}', /input line 3: timestamp: expected milliseconds/],
    ['{"key": "a", "value": 1, "headers": {"h": 1}}', /input line 3: headers\.h: expected a string, got 1/],
    ['[1, 2]', /input line 3: expected a JSON object/],
  ];
  for (const [badLine, message] of shapes) {
    const bad = await runWeir(['produce', '-c', config, '--topic', 'orders'], { input: `${good(3)}\n${good(4)}\n${badLine}\n${good(5)}\n` });
    t.equal(bad.code, 1, badLine);
    t.match(bad.stderr, message);
  }
  const dump = await runWeir(['topic', 'dump', '-c', config, '--topic', 'orders']);
  t.same(
    parseDump(dump.stdout).map((r) => r.value).sort(),
    [1, 2],
    'only the records of the successful produce',
  );
});

t.test('produce: blank lines are skipped, null keys and values stay null, --partitions must match an existing topic', async (t) => {
  const { config } = await jobDir();
  const result = await runWeir(['produce', '-c', config, '--topic', 'misc', '--partitions', '1'], {
    input: '{"key": null, "value": null}\n\n{"value": [1, "two"]}\n   \n{"key": {"id": 7}, "value": "v"}\n',
  });
  t.equal(result.stdout, 'produced 3 records to misc\n');
  const dump = parseDump((await runWeir(['topic', 'dump', '-c', config, '--topic', 'misc'])).stdout);
  t.same(
    dump.map((r) => [r.offset, r.key, r.value]),
    [
      [0, null, null],
      [1, null, [1, 'two']],
      [2, { id: 7 }, 'v'],
    ],
  );
  const mismatch = await runWeir(['produce', '-c', config, '--topic', 'misc', '--partitions', '4'], { input: '{"value": 1}\n' });
  t.equal(mismatch.code, 1);
  t.match(mismatch.stderr, 'weir: topic "misc" already exists with 1 partition(s)');
});

t.test('dump prints bytes that are not JSON as base64 fields', async (t) => {
  const { config, logPath } = await jobDir();
  const backend = await LocalLogBackend.open(logPath);
  await backend.createTopic('raw', 1);
  const producer = await backend.producer();
  await producer.append([
    {
      topic: 'raw',
      key: new Uint8Array([0xff, 0x00, 0x01]),
      value: new TextEncoder().encode('not json'),
      headers: [{ key: 'h', value: new TextEncoder().encode('x') }],
      timestamp: 42,
    },
  ]);
  await producer.close();
  await backend.close();
  const dump = await runWeir(['topic', 'dump', '-c', config, '--topic', 'raw']);
  t.equal(dump.code, 0, dump.stderr);
  t.same(parseDump(dump.stdout), [
    {
      topic: 'raw',
      partition: 0,
      offset: 0,
      keyBase64: Buffer.from([0xff, 0x00, 0x01]).toString('base64'),
      valueBase64: Buffer.from('not json').toString('base64'),
      timestamp: 42,
      headers: { h: 'x' },
    },
  ]);
});

t.test('errors are one line "weir: ..." with exit code 1; WEIR_DEBUG=1 adds the stack', async (t) => {
  const { dir, config } = await jobDir();
  const missingTopic = await runWeir(['topic', 'dump', '-c', config, '--topic', 'nope']);
  t.equal(missingTopic.code, 1);
  t.equal(missingTopic.stderr, 'weir: topic "nope" does not exist\n');

  const missingConfig = await runWeir(['topic', 'list', '-c', join(dir, 'absent.yaml')]);
  t.equal(missingConfig.code, 1);
  t.equal(missingConfig.stderr, `weir: config file not found: ${join(dir, 'absent.yaml')}\n`);

  const badConfig = join(dir, 'bad.yaml');
  await writeFile(badConfig, 'appId: x\nlog: { backend: kafak }\ninput: { topics: [a] }\npipeline: p.js\n');
  const invalid = await runWeir(['topic', 'list', '-c', badConfig]);
  t.equal(invalid.code, 1);
  t.equal(invalid.stderr, `weir: config error in ${badConfig}: log.backend: expected "local" or "kafka", got "kafak"\n`);

  const fromEnv = await runWeir(['topic', 'list', '-c', config], { env: { WEIR_WORKERS: 'lots' } });
  t.equal(fromEnv.stderr, `weir: config error in ${config}: workers: expected a number, got "lots" (from WEIR_WORKERS)\n`);

  const viaEnvConfig = await runWeir(['topic', 'list'], { env: { WEIR_CONFIG: config } });
  t.equal(viaEnvConfig.code, 0, 'WEIR_CONFIG supplies --config');

  const debug = await runWeir(['topic', 'dump', '-c', config, '--topic', 'nope'], { env: { WEIR_DEBUG: '1' } });
  t.equal(debug.code, 1);
  t.match(debug.stderr, /^weir: topic "nope" does not exist\nTopicNotFoundError: .*\n\s+at /);

  const badOption = await runWeir(['produce', '-c', config, '--topic', 't', '--partitions', 'zero']);
  t.equal(badOption.code, 1);
  t.match(badOption.stderr, /--partitions <n>.*expected an integer from 1 to 10000, got "zero"/);
});
