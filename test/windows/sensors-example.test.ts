/** The sensors example job (examples/sensors) end to end on the local log, against the window model. */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../config/index.js';
import { runJob } from '../../runtime/job-runner.js';
import { LocalLogBackend } from '../../shared/log/local/local-log-backend.js';
import { decodeJson, localExampleConfig, readTopic } from '../runtime/job-fixture.js';
import { timeWindowModel } from './fixtures/window-model.js';

t.setTimeout(300_000);
// dist/test/windows → the example's source folder (the pipeline is TypeScript, loaded through tsx).
const exampleDir = fileURLToPath(new URL('../../../examples/sensors/', import.meta.url));

t.test('hopping-window averages per sensor equal the model', async (t) => {
  const dir = t.testdir();
  const configPath = await localExampleConfig(exampleDir, dir);
  const lines = (await readFile(join(exampleDir, 'readings.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { key: string; value: { celsius: number }; timestamp: number });
  const backend = await LocalLogBackend.open(join(dir, 'log'));
  await backend.createTopic('readings', 4);
  const producer = await backend.producer();
  await producer.append(lines.map((l) => ({ topic: 'readings', key: Buffer.from(JSON.stringify(l.key)), value: Buffer.from(JSON.stringify(l.value)), timestamp: l.timestamp })));
  await producer.close();
  await backend.close();

  await runJob(await loadConfig(configPath), { untilIdle: true });
  const model = timeWindowModel(
    lines.map((l) => ({ key: l.key, value: l.value.celsius, timestamp: l.timestamp })),
    10_000,
    2_000,
    3_000,
  ).map((r) => [r.key, r.start, r.end, r.values.length, Math.min(...r.values), Math.max(...r.values), r.values.reduce((a, b) => a + b, 0) / r.values.length]);
  const outputs = (await readTopic(join(dir, 'log'), 'sensor-averages')).map((r) => {
    const v = decodeJson(r.value) as { start: number; end: number; readings: number; minCelsius: number; maxCelsius: number; avgCelsius: number };
    return [decodeJson(r.key), v.start, v.end, v.readings, v.minCelsius, v.maxCelsius, v.avgCelsius];
  });
  const sort = (rows: unknown[][]): unknown[][] => rows.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  t.ok(model.length > 100, `${model.length} windows`);
  t.equal(outputs.length, model.length);
  for (const [i, row] of sort(outputs).entries()) {
    const expected = sort(model)[i]!;
    t.same(row.slice(0, 6), expected.slice(0, 6));
    t.ok(Math.abs((row[6] as number) - (expected[6] as number)) < 1e-9, 'average');
  }
});
