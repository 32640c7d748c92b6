/** The Avro example job (examples/avro-orders) through the CLI, as its weir.yaml tells a user to run it, against a test registry. */
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runWeir } from '../cli/fixtures/run-weir.js';
import { startSchemaRegistry, type TestSchemaRegistry } from './fixtures/schema-registry-server.js';

const exampleDir = fileURLToPath(new URL('../../../examples/avro-orders/', import.meta.url));

let registry: TestSchemaRegistry;
t.before(async () => {
  registry = await startSchemaRegistry();
});
t.teardown(() => registry.close());

t.test('produce, run, topic dump and state dump of the Avro example', async (t) => {
  const dir = t.testdir();
  const example = await readFile(join(exampleDir, 'weir.yaml'), 'utf8');
  const config = join(dir, 'weir.yaml');
  await writeFile(
    config,
    example
      .replace(/path: .*log/, 'path: ./log')
      .replace(/dir: .*state/, 'dir: ./state')
      .replace('http://localhost:8081', registry.url)
      .replace(/: \.\/(pipeline\.ts|order\.avsc|order-count\.proto)/g, (_m, file: string) => `: ${JSON.stringify(join(exampleDir, file))}`),
  );
  const produced = await runWeir(['produce', '-c', config, '-t', 'orders'], { input: await readFile(join(exampleDir, 'orders.jsonl'), 'utf8') });
  t.equal(produced.code, 0, produced.stderr);
  t.match(produced.stdout, /produced 8 records to orders/);
  const run = await runWeir(['run', '-c', config, '--until-idle']);
  t.equal(run.code, 0, run.stderr);

  const dumped = await runWeir(['topic', 'dump', '-c', config, '-t', 'order-counts']);
  t.equal(dumped.code, 0, dumped.stderr);
  const last = new Map<string, { orders: number; total: number }>();
  for (const line of dumped.stdout.trim().split('\n')) {
    const record = JSON.parse(line) as { key: string; value: { customer: string; orders: number; total: number } };
    t.equal(record.value.customer, record.key);
    if ((last.get(record.key)?.orders ?? 0) < record.value.orders) last.set(record.key, record.value);
  }
  t.same(Object.fromEntries(last), {
    alice: { customer: 'alice', orders: 3, total: 62.49 },
    bob: { customer: 'bob', orders: 2, total: 4.5 },
    carol: { customer: 'carol', orders: 2, total: 9.75 },
    dave: { customer: 'dave', orders: 1, total: 15 },
  });

  const orders = await runWeir(['topic', 'dump', '-c', config, '-t', 'orders']);
  t.match(JSON.parse(orders.stdout.split('\n')[0]!), { key: /^(alice|bob|carol|dave)$/, value: { id: /^order-\d$/, currency: 'EUR' } }, 'the input reads back as Avro');

  const state = await runWeir(['state', 'dump', '-c', config, '-s', 'orders']);
  const counts = Object.fromEntries(
    state.stdout.trim().split('\n').map((l) => JSON.parse(l) as { key: string; stateKey: string; value: number }).filter((e) => e.stateKey === 'count').map((e) => [e.key, e.value]),
  );
  t.same(counts, { alice: 3, bob: 2, carol: 2, dave: 1 });
});
