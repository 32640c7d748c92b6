/** A timestamped store through the pipeline API: an as-of join of trades with the latest quote, end to end. */
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../config/index.js';
import { runJob } from '../../runtime/job-runner.js';
import { clearState } from '../../runtime/state-inspection.js';
import { LocalLogBackend } from '../../shared/log/local/local-log-backend.js';
import { decodeJson, readTopic } from '../runtime/job-fixture.js';

t.setTimeout(300_000);
const definitionModule = fileURLToPath(new URL('../../shared/pipeline/pipeline-definition.js', import.meta.url));

const PIPELINE = `
import { definePipeline } from ${JSON.stringify(definitionModule)};
export default definePipeline({
  timestampedStores: { quotes: { graceMs: 300 } },
  async process(record, context) {
    const quotes = context.timestamped('quotes');
    if (record.topic === 'quotes') await quotes.set(record.timestamp, record.value.price);
    else context.emit('joined', { key: record.key, value: { qty: record.value.qty, price: (await quotes.getLatest(record.timestamp)) ?? null } });
  },
});
`;

async function append(logPath: string, topic: string, rows: [string, unknown, number][]): Promise<void> {
  const backend = await LocalLogBackend.open(logPath);
  try {
    if ((await backend.describeTopic(topic)) === undefined) await backend.createTopic(topic, 2);
    const producer = await backend.producer();
    await producer.append(rows.map(([key, value, timestamp]) => ({ topic, key: Buffer.from(JSON.stringify(key)), value: Buffer.from(JSON.stringify(value)), timestamp })));
    await producer.close();
  } finally {
    await backend.close();
  }
}

t.test('trades join the latest quote at or before their time, within grace, after a state rebuild too', async (t) => {
  const dir = t.testdir();
  await writeFile(join(dir, 'pipeline.mjs'), PIPELINE);
  const configPath = join(dir, 'weir.yaml');
  await writeFile(
    configPath,
    ['appId: asof', 'log: { backend: local, path: ./log }', 'state: { dir: ./state }', 'input: { topics: [quotes, trades] }', 'output: { topics: [joined] }', 'pipeline: ./pipeline.mjs', 'partitions: 2'].join('\n'),
  );
  const logPath = join(dir, 'log');
  await append(logPath, 'quotes', [
    ['AAPL', { price: 10 }, 1_000],
    ['AAPL', { price: 11 }, 1_050],
    ['MSFT', { price: 50 }, 1_020],
    ['AAPL', { price: 12 }, 1_200],
  ]);
  await append(logPath, 'trades', []);
  const config = await loadConfig(configPath);
  await runJob(config, { untilIdle: true });
  await clearState(config);
  await append(logPath, 'trades', [
    ['AAPL', { qty: 1 }, 1_060],
    ['AAPL', { qty: 2 }, 999],
    ['MSFT', { qty: 3 }, 5_000],
    ['AAPL', { qty: 4 }, 1_100],
    ['AAPL', { qty: 5 }, 1_250],
  ]);
  await runJob(config, { untilIdle: true });
  // A newer quote moves AAPL's retention to 1500 - 300: the quotes at 1000..1200 go.
  await append(logPath, 'quotes', [['AAPL', { price: 13 }, 1_500]]);
  await runJob(config, { untilIdle: true });
  await append(logPath, 'trades', [['AAPL', { qty: 6 }, 1_100]]);
  await runJob(config, { untilIdle: true });

  const joined = (await readTopic(logPath, 'joined')).map((r) => [decodeJson(r.key), decodeJson(r.value)]);
  const byQty = joined.sort((a, b) => (a[1] as { qty: number }).qty - (b[1] as { qty: number }).qty);
  t.same(byQty, [
    ['AAPL', { qty: 1, price: 11 }],
    ['AAPL', { qty: 2, price: null }],
    ['MSFT', { qty: 3, price: 50 }],
    ['AAPL', { qty: 4, price: 11 }],
    ['AAPL', { qty: 5, price: 12 }],
    ['AAPL', { qty: 6, price: null }],
  ]);
});
