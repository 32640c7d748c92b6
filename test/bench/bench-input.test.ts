import t from 'tap';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppendRecord } from '../../shared/log/log-backend.js';
import { openBenchInput, type BenchInput } from '../../bench/engine/bench-input.js';
import type { GeneratedInputSpec } from '../../bench/engine/bench-options.js';
import { BenchGeneratorError, BenchInputFileError, BenchInputLineError } from '../../bench/engine/bench-errors.js';

const decoder = new TextDecoder();
const json = (bytes: Uint8Array | null): unknown => (bytes === null ? null : JSON.parse(decoder.decode(bytes)));

async function all(input: BenchInput, topic = 'events', batchSize?: number): Promise<AppendRecord[]> {
  const out: AppendRecord[] = [];
  for await (const batch of input.batches(topic, batchSize)) out.push(...batch);
  return out;
}

const generated = (overrides: Partial<GeneratedInputSpec> = {}): GeneratedInputSpec => ({
  kind: 'generated',
  records: 2_000,
  keys: 50,
  distribution: 'uniform',
  zipfExponent: 1,
  value: { n: '{{index}}', id: 'order-{{index}}', at: '{{timestamp}}', who: '{{key}}', p: '{{random}}', fixed: [true, 3] },
  eventsPerSecond: 1_000,
  disorderMs: 0,
  startTimestamp: 1_000_000,
  seed: 7,
  ...overrides,
});

function keyCounts(records: readonly AppendRecord[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of records) counts.set(json(r.key) as string, (counts.get(json(r.key) as string) ?? 0) + 1);
  return counts;
}

t.test('generated input: the same records on every pass, in batches, with the asked key cardinality', async (t) => {
  const input = await openBenchInput(generated());
  t.equal(input.records, 2_000);
  const first = await all(input, 'events', 300);
  const second = await all(input, 'other');
  t.equal(first.length, 2_000);
  t.same(
    first.map((r) => [json(r.key), json(r.value), r.timestamp]),
    second.map((r) => [json(r.key), json(r.value), r.timestamp]),
    'replayable: same keys, values and timestamps',
  );
  t.ok(second.every((r) => r.topic === 'other'), 'records go to the asked topic');
  const counts = keyCounts(first);
  t.ok(counts.size <= 50 && counts.size > 40, `about 50 distinct keys (${counts.size})`);
  t.ok([...counts.keys()].every((k) => /^key-\d+$/.test(k)));
});

t.test('generated input: the value template fills typed and interpolated placeholders', async (t) => {
  const records = await all(await openBenchInput(generated({ records: 3 })));
  const value = json(records[2]!.value) as Record<string, unknown>;
  t.equal(value['n'], 2, '{{index}} alone becomes a number');
  t.equal(value['id'], 'order-2', 'inside a string it is interpolated');
  t.equal(value['at'], records[2]!.timestamp);
  t.equal(value['who'], json(records[2]!.key));
  t.ok(typeof value['p'] === 'number' && value['p'] >= 0 && value['p'] < 1);
  t.same(value['fixed'], [true, 3], 'other JSON stays as written');
});

t.test('generated input: event time follows the rate; disorder moves timestamps back by at most disorderMs', async (t) => {
  const ordered = await all(await openBenchInput(generated({ eventsPerSecond: 500 })));
  t.same(ordered.slice(0, 3).map((r) => r.timestamp), [1_000_000, 1_000_002, 1_000_004], '2 ms apart at 500 records/s');

  const disordered = await all(await openBenchInput(generated({ disorderMs: 100 })));
  let backwards = 0;
  const outside: number[] = [];
  disordered.forEach((r, i) => {
    const onTime = 1_000_000 + i;
    if (r.timestamp! > onTime || r.timestamp! < onTime - 100) outside.push(i);
    if (i > 0 && r.timestamp! < disordered[i - 1]!.timestamp!) backwards += 1;
  });
  t.same(outside, [], 'every timestamp within [on time - disorderMs, on time]');
  t.ok(backwards > 100, `many records arrive out of order (${backwards})`);
});

t.test('generated input: zipf makes a few keys hot, uniform does not', async (t) => {
  const uniform = keyCounts(await all(await openBenchInput(generated({ records: 20_000, keys: 1_000 }))));
  const zipf = keyCounts(await all(await openBenchInput(generated({ records: 20_000, keys: 1_000, distribution: 'zipf' }))));
  const hottest = (counts: Map<string, number>): number => Math.max(...counts.values());
  t.ok(hottest(uniform) < 60, `uniform: no key much above 20 (${hottest(uniform)})`);
  t.ok(hottest(zipf) > 1_500, `zipf s=1 over 1000 keys: key-0 takes ~13% (${hottest(zipf)})`);
  t.ok((zipf.get('key-0') ?? 0) > (zipf.get('key-1') ?? 0), 'key-0 is the hottest');
});

t.test('file input: validated up front, replayable, limited by records', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'in.jsonl');
  const lines = Array.from({ length: 10 }, (_, i) => JSON.stringify({ key: `k${i % 3}`, value: { i }, timestamp: 5 + i }));
  await writeFile(path, `${lines.slice(0, 5).join('\n')}\n\n${lines.slice(5).join('\n')}\n`);
  const input = await openBenchInput({ kind: 'file', path });
  t.equal(input.records, 10, 'blank lines are not records');
  t.same(input.description, { source: 'file', path, records: 10 });
  const records = await all(input, 'events', 4);
  t.same(records.map((r) => json(r.value)), lines.map((_, i) => ({ i })));
  t.same(records.map((r) => r.timestamp), lines.map((_, i) => 5 + i));

  const limited = await openBenchInput({ kind: 'file', path, limit: 6 });
  t.equal(limited.records, 6);
  t.equal((await all(limited)).length, 6);
});

t.test('file input errors name the path (and the line)', async (t) => {
  const dir = t.testdir();
  const missing = join(dir, 'missing.jsonl');
  await t.rejects(openBenchInput({ kind: 'file', path: missing }), {
    constructor: BenchInputFileError,
    path: missing,
    message: `cannot read bench input file ${missing}: no such file`,
  });
  const folder = join(dir, 'folder.jsonl');
  await mkdir(folder);
  await t.rejects(openBenchInput({ kind: 'file', path: folder }), { constructor: BenchInputFileError, message: /folder\.jsonl: not a file/ });
  const empty = join(dir, 'empty.jsonl');
  await writeFile(empty, '\n');
  await t.rejects(openBenchInput({ kind: 'file', path: empty }), { constructor: BenchInputFileError, message: /holds no records/ });
  const bad = join(dir, 'bad.jsonl');
  await writeFile(bad, '{"key":"a","value":1}\n{"key":"b"}\n');
  await t.rejects(openBenchInput({ kind: 'file', path: bad }), {
    constructor: BenchInputLineError,
    path: bad,
    line: 2,
    message: `bench input file ${bad}: input line 2: value: required (write null for a null value); nothing was benchmarked`,
  });
});

t.test('generator module: called per record with a seeded random; bad modules and records are named', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'gen.mjs');
  await writeFile(
    path,
    'export default (index, { random, keys, records }) => ({ key: `u${Math.floor(random() * keys)}`, value: { index, of: records }, timestamp: 100 + index });\n',
  );
  const input = await openBenchInput({ kind: 'module', path, records: 1_000, keys: 10, seed: 3 });
  const records = await all(input, 'events', 256);
  t.equal(records.length, 1_000);
  t.same(json(records[999]!.value), { index: 999, of: 1_000 });
  t.equal(records[999]!.timestamp, 1_099);
  t.ok(keyCounts(records).size <= 10);
  t.same((await all(input)).map((r) => json(r.key)), records.map((r) => json(r.key)), 'seeded: replayable');

  const wrong = join(dir, 'wrong.mjs');
  await writeFile(wrong, 'export default (index) => (index === 5 ? { key: "x" } : { key: "x", value: index });\n');
  const wrongInput = await openBenchInput({ kind: 'module', path: wrong, records: 10, keys: 1, seed: 1 });
  await t.rejects(all(wrongInput), { constructor: BenchGeneratorError, path: wrong, message: /wrong\.mjs: record 5: value: required/ });

  const notFunction = join(dir, 'object.mjs');
  await writeFile(notFunction, 'export default { key: 1 };\n');
  await t.rejects(openBenchInput({ kind: 'module', path: notFunction, records: 1, keys: 1, seed: 1 }), {
    constructor: BenchGeneratorError,
    message: /default export must be a function/,
  });
  await t.rejects(openBenchInput({ kind: 'module', path: join(dir, 'nope.mjs'), records: 1, keys: 1, seed: 1 }), {
    constructor: BenchGeneratorError,
    message: /nope\.mjs: the file does not exist/,
  });
});
