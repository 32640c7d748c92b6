/**
 * The job's server on the Kafka mock cluster: the address file in the state directory,
 * readiness, live produce through the job, queries equal to the state dump, metrics.
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { loadConfig } from '../../config/index.js';
import { countPipelineSource } from '../../examples/count/count-pipeline-source.js';
import { startMockCluster, type MockCluster } from '../kafka/mock-cluster.js';
import { kafkaJob } from '../kafka/helpers.js';
import { stateCounts } from '../runtime/job-fixture.js';
import { jsonLines, startServedJob, waitFor } from './served-job.js';

let cluster: MockCluster;
t.before(async () => {
  cluster = await startMockCluster(3);
});
t.teardown(async () => {
  await cluster.stop();
});

t.test('a job on Kafka serves: readiness, live produce, queries, metrics', async (t) => {
  const dir = t.testdir();
  const { appId, input, configPath } = await kafkaJob(cluster, dir, { pipeline: countPipelineSource, commitInterval: 0.3 });
  const config = await loadConfig(configPath);
  const job = await startServedJob(config);
  const address = JSON.parse(await readFile(join(dir, 'state', appId, 'weir-server.json'), 'utf8')) as { url: string };
  t.equal(address.url, job.url, 'address file in the state directory');
  await waitFor(async () => (await fetch(`${job.url}/readyz`)).status === 200, 'readiness on Kafka');

  const records = Array.from({ length: 600 }, (_, i) => ({ key: `k${i % 30}`, value: { n: i } }));
  const produced = await fetch(`${job.url}/topics/${input}/records`, { method: 'POST', body: jsonLines(records) });
  t.equal(produced.status, 200);
  t.same(await produced.json(), { topic: input, produced: 600, warnings: [] });

  const model = new Map<string, number>();
  for (const r of records) model.set(r.key, (model.get(r.key) ?? 0) + 1);
  const answers = new Map<string, unknown>();
  await waitFor(async () => {
    for (const [key, count] of model) {
      const response = await fetch(`${job.url}/stores/counts/keys/${encodeURIComponent(JSON.stringify(key))}/count`);
      if (response.status !== 200) return false;
      const reply = (await response.json()) as { entries: Array<{ value: unknown }> };
      if (reply.entries[0]?.value !== count) return false;
      answers.set(key, reply.entries[0]?.value);
    }
    return true;
  }, 'every count committed and queryable', 120_000);

  const families = new Map(parsePrometheusTextFormat(await (await fetch(`${job.url}/metrics`)).text()).map((f) => [f.name, f]));
  const sum = (name: string): number => (families.get(name)?.metrics ?? []).reduce((n, m) => n + Number(m.value ?? 0), 0);
  t.equal(sum('weir_records_in_total'), 600);
  t.equal(sum('weir_records_processed_total'), 600);
  t.equal(sum('weir_records_out_total'), 600);
  t.equal(families.get('weir_consumer_lag_records')?.metrics.length, 4);
  t.equal(sum('weir_consumer_lag_records'), 0);
  t.equal(sum('weir_ready'), 1);

  await job.stop();
  t.same(await stateCounts(config), model, 'state after the run');
  t.same(new Map([...answers]), model, 'the queries answered the state dump');
});
