/**
 * `GET /metrics` parsed by a Prometheus text parser (the expected series with plausible
 * values) and `GET /readyz` (not ready while the state recovers from the changelog,
 * ready after) on a running job on the local log.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format';
import { appendEvents, createJobFixture, generateEvents, modelCounts, stateCounts } from '../runtime/job-fixture.js';
import { runJob } from '../../runtime/job-runner.js';
import { clearState } from '../../runtime/state-inspection.js';
import { startServedJob, waitFor } from './served-job.js';

/** Bytes of every file under `dir`. */
async function treeBytes(dir: string): Promise<number> {
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) bytes += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return bytes;
}

const quiet = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;

async function scrape(url: string): Promise<Map<string, PrometheusFamily>> {
  const response = await fetch(`${url}/metrics`);
  if (response.status !== 200) throw new Error(`metrics answered ${response.status}`);
  if (!(response.headers.get('content-type') ?? '').startsWith('text/plain')) throw new Error('not the text format');
  return new Map(parsePrometheusTextFormat(await response.text()).map((f) => [f.name, f]));
}

/** Sum of the samples of a family whose labels include `labels`. */
function total(families: Map<string, PrometheusFamily>, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name);
  if (family === undefined) return Number.NaN;
  return family.metrics
    .filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
    .reduce((n, m) => n + Number(m.value ?? m.count ?? 0), 0);
}

t.test('metrics: records in and out, lag, checkpoints, changelog, workers, process', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { commitInterval: 0.2 });
  const events = generateEvents(5_000, 50, 3);
  await appendEvents(fixture, events);
  const config = { ...(await fixture.config()), workers: 2 };
  const job = await startServedJob(config);
  let families = await scrape(job.url);
  await waitFor(async () => {
    families = await scrape(job.url);
    return total(families, 'weir_records_out_total', { topic: 'counts' }) === 5_000 && total(families, 'weir_checkpoints_total') >= 1;
  }, 'every record processed, output and checkpointed');
  families = await scrape(job.url); // the busy ratio needs two scrapes
  t.equal(total(families, 'weir_records_in_total', { topic: 'events' }), 5_000);
  t.equal(total(families, 'weir_records_processed_total'), 5_000);
  t.equal(families.get('weir_records_processed_total')?.metrics.length, 2, 'one series per worker');
  t.equal(families.get('weir_consumer_lag_records')?.metrics.length, 4, 'one lag series per input partition');
  t.equal(total(families, 'weir_consumer_lag_records'), 0, 'nothing left to read');
  t.equal(total(families, 'weir_worker_in_flight_records'), 0);
  t.equal(total(families, 'weir_partitions_assigned'), 4);
  t.equal(total(families, 'weir_ready'), 1);
  t.equal(total(families, 'weir_records_failed_total', { policy: 'stop' }), 0);
  t.ok(total(families, 'weir_changelog_records_total') > 0 && total(families, 'weir_changelog_records_total') <= 5_000, 'changelog records written');
  const histogram = families.get('weir_checkpoint_duration_seconds');
  t.equal(histogram?.type, 'HISTOGRAM');
  const buckets = histogram?.metrics[0]?.buckets ?? {};
  t.ok(Number(buckets['+Inf']) >= 1, 'checkpoint durations observed');
  t.equal(Number(buckets['60']), Number(buckets['+Inf']), 'each under a minute');
  const busy = families.get('weir_worker_busy_ratio')?.metrics ?? [];
  t.equal(busy.length, 2, 'a busy ratio per worker');
  t.ok(busy.every((m) => Number(m.value) >= 0 && Number(m.value) <= 1), 'busy ratios between 0 and 1');
  const sizes = families.get('weir_state_size_bytes')?.metrics ?? [];
  t.same(sizes.map((m) => `${m.labels?.['store']}/${m.labels?.['partition']}`).sort(), ['counts/0', 'counts/1', 'counts/2', 'counts/3'], 'a state size per store partition');
  t.ok(sizes.every((m) => Number(m.value) > 0), 'every store partition has bytes on disk');
  t.ok(total(families, 'weir_state_size_bytes') <= (await treeBytes(config.state.dir)), 'no more than the state directory holds');
  t.ok(total(families, 'process_cpu_user_seconds_total') > 0, 'default process metrics');
  t.ok(total(families, 'nodejs_heap_size_used_bytes') > 0);
  t.equal(families.get('weir_records_in_total')?.metrics[0]?.labels?.['app_id'], 'test-count', 'every series names the job');
  await job.stop();
  t.same(await stateCounts(config), modelCounts(events));
});

t.test('readiness: not ready while the state recovers, ready after; recovery progress in the metrics', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { commitInterval: 9999 });
  // Many keys: a long changelog to replay once the local state is gone.
  const events = generateEvents(60_000, 60_000, 5);
  await appendEvents(fixture, events);
  const config = { ...(await fixture.config()), workers: 1 }; // one worker: the partitions recover one after another
  await runJob(config, { untilIdle: true, stream: quiet });
  await clearState(config);
  const recovering = new Set<string>();
  let readyWhileRecovering = false;

  const seen: string[] = [];
  let polling = true;
  let url: string | undefined;
  const poller = (async () => {
    while (polling) {
      if (url !== undefined) {
        const response = await fetch(`${url}/readyz`).catch(() => undefined);
        if (response !== undefined) {
          const body = (await response.json()) as { ready: boolean; reason?: string };
          const state = body.ready ? 'ready' : (body.reason ?? 'not ready');
          if (body.ready && recovering.size > 0) readyWhileRecovering = true;
          if (seen.at(-1) !== state) seen.push(state);
          if (body.ready) break;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  const job = await startServedJob(config, {
    onServerListening: (u) => (url = u),
    onRecoveryProgress: (p) => {
      if (p.done) recovering.delete(`${p.store}/${p.partition}`);
      else recovering.add(`${p.store}/${p.partition}`);
    },
  });
  await waitFor(() => seen.at(-1) === 'ready', 'readiness');
  polling = false;
  await poller;
  t.ok(seen.length >= 2, `not ready before the state is recovered (seen: ${seen.join(' → ')})`);
  t.equal(seen.at(-1), 'ready');
  t.notOk(readyWhileRecovering, 'never ready while a partition recovers');

  const families = await scrape(job.url);
  const recovered = total(families, 'weir_recovery_records', { store: 'counts' });
  t.equal(recovered, total(families, 'weir_recovery_target_records', { store: 'counts' }), 'every partition replayed its changelog');
  t.equal(recovered, 60_000 - 0 - [...modelCounts(events).values()].reduce((n, c) => n + c - 1, 0), 'one changelog record per key');
  await job.stop();
  t.same(await stateCounts(config), modelCounts(events));
});
