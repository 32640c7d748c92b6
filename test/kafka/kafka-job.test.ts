/**
 * The runtime on the Kafka backend, against librdkafka's mock cluster hosted in this
 * process: the checkpoint and recovery rules (docs/semantics.md §5, §8), the count job
 * under both guarantees (exactly-once: the call sequence only; the mock ignores
 * transactional offsets), and the multi-process takeover test.
 */
import t, { type Test } from 'tap';
import { TEXT_LOGS_ENV, WEIR_MAIN } from '../cli/fixtures/run-weir.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { WeirConfig } from '../../config/index.js';
import { runJob } from '../../runtime/job-runner.js';
import { App } from '../../runtime/app.js';
import { clearState, dumpState } from '../../runtime/state-inspection.js';
import { hoppingWindow, sum, tumblingWindow, windowStoreName } from '../../shared/pipeline/windows.js';
import { KafkaLogBackend } from '../../shared/log/kafka/kafka-log-backend.js';
import type { AppendRecord } from '../../shared/log/log-backend.js';
import { startMockCluster, type MockCluster } from './mock-cluster.js';
import { kafkaJob, KAFKA_JOB_PARTITIONS as PARTITIONS, produceTo, readAll, TEST_CLIENT_PROPERTIES, type KafkaJob } from './helpers.js';
import { countDifference, failingPipeline, generateEvents, modelCounts, stateCounts } from '../runtime/job-fixture.js';
import { dedupPipelineSource, generateDuplicates, storedSeenEntries } from '../runtime/fixtures/dedup-job.js';

let cluster: MockCluster;
t.before(async () => {
  cluster = await startMockCluster(3);
});
t.teardown(async () => {
  await cluster.stop();
});

t.test('42. creating the app creates (or validates) its changelog topics', async (t) => {
  const job = await kafkaJob(cluster, t.testdir());
  const config = await job.config();
  const backend = await KafkaLogBackend.open({ brokers: cluster.bootstrapServers, clientProperties: TEST_CLIENT_PROPERTIES });
  t.teardown(() => backend.close());
  const app = await App.create(config, backend);
  t.same(app.state.changelogTopics(), { counts: `changelog__${job.appId}--${job.input}--counts` });
  t.equal((await backend.describeTopic(`changelog__${job.appId}--${job.input}--counts`))?.partitions, PARTITIONS);
});

for (const guarantee of ['at-least-once', 'exactly-once'] as const) {
  t.test(`137/142. the count job on Kafka (${guarantee}): exact counts, then rebuilt from the changelog`, async (t) => {
    const job = await kafkaJob(cluster, t.testdir(), { guarantee });
    const events = generateEvents(3_000, 150, guarantee === 'exactly-once' ? 31 : 32);
    await produceTo(cluster, job.input, events);
    const config = await job.config();
    const summary = await runJob(config, { untilIdle: true });
    t.equal(summary.records, events.length);
    t.same(await stateCounts(config), modelCounts(events));

    await clearState(config);
    const rerun = await runJob(config, { untilIdle: true });
    if (guarantee === 'at-least-once') {
      t.equal(rerun.records, 0, 'nothing reprocessed outside recovery');
    } else {
      // librdkafka's mock ignores offsets sent in a transaction: the group has no
      // committed offset, so the input is read again and the skip rule (docs/semantics.md §5.4) must drop
      // every changelog record whose offsets were "never committed" — the state below
      // is still exact. Exactly-once itself is proven on the local backend.
      t.equal(rerun.records, events.length, 'mock: input read again');
    }
    t.ok(rerun.recoveredRecords > 0, 'recovered from the changelog topic');
    t.same(await stateCounts(config), modelCounts(events));
  });
}


const encoder = new TextEncoder();
const threeRecords = (): AppendRecord[] =>
  [0, 1, 2].map((n) => ({ topic: 'events', partition: 0, key: encoder.encode('"key"'), value: encoder.encode(JSON.stringify({ n })) }));

t.test('138. a failing record under the stop policy fails the run and commits nothing (Kafka)', async (t) => {
  const job = await kafkaJob(cluster, t.testdir(), { pipeline: failingPipeline, commitInterval: 9999 });
  await produceTo(cluster, job.input, threeRecords());
  const config = await job.config();
  const error = (await runJob(config, { untilIdle: true }).catch((e: unknown) => e)) as Error;
  t.match(error?.message, /\[0\] offset 2: boom on the third record/);
  t.same(await stateCounts(config), new Map(), 'nothing flushed');
});

t.test('139. under the skip policy the failing record is skipped with no effect on state (Kafka)', async (t) => {
  const job = await kafkaJob(cluster, t.testdir(), { pipeline: failingPipeline, extraYaml: 'errors: { policy: skip }' });
  await produceTo(cluster, job.input, threeRecords());
  const config = await job.config();
  await runJob(config, { untilIdle: true });
  t.same(await stateCounts(config), new Map([['key', 2]]), 'the state write before the error is undone');
});

t.test('143. a hopping-window store is rebuilt from its changelog topic exactly (Kafka)', async (t) => {
  const windows = new URL('../../shared/pipeline/windows.js', import.meta.url).href;
  const store = windowStoreName('totals', hoppingWindow({ durationMs: 5000, stepMs: 2000, aggregate: sum() }));
  const pipeline = `import { hoppingWindow, sum } from '${windows}';
export default { windows: { totals: hoppingWindow({ durationMs: 5000, stepMs: 2000, aggregate: sum((v) => v.amount) }) } };`;
  const job = await kafkaJob(cluster, t.testdir(), { pipeline, stores: [store], commitInterval: 0 });
  const records: AppendRecord[] = [];
  for (const [partition, count] of [[0, 4], [1, 2]] as const) {
    for (let i = 0; i < count; i++) {
      records.push({ topic: 'events', partition, key: encoder.encode(`"key${partition}"`), value: encoder.encode('{"amount":10}'), timestamp: 1_000 * (i + 1) });
    }
  }
  await produceTo(cluster, job.input, records);
  const config = await job.config();
  const first = await runJob(config, { untilIdle: true });
  t.equal(first.records, 6);
  const before = await dumpAll(config, store);
  t.ok(before.length > 0, 'window state exists');
  await clearState(config);
  const rerun = await runJob(config, { untilIdle: true });
  t.equal(rerun.records, 0, 'nothing reprocessed outside recovery');
  t.same(await dumpAll(config, store), before, 'identical window state');
});

for (const guarantee of ['at-least-once', 'exactly-once'] as const) {
  t.test(`--close-windows on Kafka (${guarantee}): the end of input closes the open windows once, in the final checkpoint`, async (t) => {
    const windows = new URL('../../shared/pipeline/windows.js', import.meta.url).href;
    const store = windowStoreName('totals', tumblingWindow({ durationMs: 10_000, aggregate: sum() }));
    const pipeline = (output: string): string => `import { tumblingWindow, sum } from '${windows}';
export default { windows: { totals: tumblingWindow({ durationMs: 10000, aggregate: sum((v) => v.amount), to: '${output}' }) } };`;
    const job = await kafkaJob(cluster, t.testdir(), { guarantee, pipeline, stores: [store] });
    const records: AppendRecord[] = [];
    for (const [partition, key] of [[0, 'a'], [1, 'b'], [2, 'c']] as const) {
      records.push({ topic: 'events', partition, key: encoder.encode(`"${key}"`), value: encoder.encode('{"amount":10}'), timestamp: 1_000 * (partition + 1) });
    }
    await produceTo(cluster, job.input, records);
    const config = await job.config();
    t.equal((await runJob(config, { untilIdle: true })).outputRecords, 0, 'the windows stay open');
    t.ok((await dumpAll(config, store)).length > 0, 'open windows in state');
    const closing = await runJob(config, { untilIdle: true, closeWindows: true });
    t.equal(closing.outputRecords, 3, 'one final result per key');
    t.same(await windowsLeftInChangelog(t, job, store), [], 'the changelog ends with every window deleted');
    if (guarantee === 'at-least-once') {
      // Exactly-once cannot be re-run here: the mock ignores offsets sent in a transaction, so
      // the closing run reads its input again and, when that record and the closing share a
      // checkpoint, the closing's changelog records name a never-committed offset and a rebuild
      // skips them (§5.4). On a real broker the offset commits with them; the local backend
      // proves the exactly-once rebuild (test/windows/close-windows-job.test.ts).
      await clearState(config);
      const again = await runJob(config, { untilIdle: true, closeWindows: true });
      t.equal(again.outputRecords, 0, 'rebuilt from the changelog: nothing left to close');
    }
  });
}

/** Window keys (not the `__…__` bookkeeping keys) whose last changelog record is not a deletion. */
async function windowsLeftInChangelog(t: Test, job: KafkaJob, store: string): Promise<string[]> {
  const last = new Map<string, boolean>();
  for (const record of await readAll(cluster, `changelog__${job.appId}--${job.input}--${store}`)) {
    const key = Buffer.from(record.key ?? new Uint8Array()).toString('latin1');
    if (!key.includes('|__')) last.set(`${record.partition}:${key}`, record.value !== null);
  }
  t.equal(last.size, 3, 'one window key per partition in the changelog');
  return [...last].filter(([, live]) => live).map(([key]) => key);
}

t.test('per-write TTL on Kafka: stamped records, the clock and tombstones make the round trip; a rebuild equals the original', async (t) => {
  const job = await kafkaJob(cluster, t.testdir(), {
    pipeline: (output) => dedupPipelineSource(output, 2_000),
    stores: ['seen'],
    extraYaml: 'commitEvery: 300',
  });
  await produceTo(cluster, job.input, generateDuplicates(3_000, 1_500, 41));
  const config = await job.config();
  t.equal((await runJob(config, { untilIdle: true })).records, 3_000);
  const stored = await storedSeenEntries(config, job.input, PARTITIONS);
  const live = await dumpAll(config, 'seen');
  t.ok(live.length > 0 && live.length <= stored.length, `${live.length} ids remembered, ${stored.length} stored`);
  t.ok(stored.length < 1_500, 'expired ids were deleted');
  await clearState(config);
  const rerun = await runJob(config, { untilIdle: true });
  t.equal(rerun.records, 0, 'nothing reprocessed outside recovery');
  t.same(await storedSeenEntries(config, job.input, PARTITIONS), stored, 'the same stored entries, stamps included: none resurrected');
  t.same(await dumpAll(config, 'seen'), live, 'the same remembered ids with their expiry');
});

async function dumpAll(config: WeirConfig, store: string): Promise<unknown[]> {
  const entries: unknown[] = [];
  for await (const entry of dumpState(config, store)) entries.push(entry);
  return entries;
}

interface WeirProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
}

function startWeir(job: KafkaJob, stateDir: string): WeirProcess {
  const child = spawn(process.execPath, [WEIR_MAIN, 'run', '-c', job.configPath, '--workers', '2'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...TEXT_LOGS_ENV, WEIR_STATE__DIR: stateDir },
  });
  let text = '';
  child.stdout!.on('data', (c: Buffer) => (text += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (text += c.toString()));
  return { child, output: () => text };
}

/** Sum of committed offsets of the input over all partitions. */
async function committedTotal(job: KafkaJob): Promise<number> {
  const backend = await KafkaLogBackend.open({ brokers: cluster.bootstrapServers, clientProperties: TEST_CLIENT_PROPERTIES });
  try {
    const tps = Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: job.input, partition }));
    const committed = await backend.committedOffsets(job.appId, tps);
    return [...committed.values()].reduce<number>((n, o) => n + (o ?? 0), 0);
  } finally {
    await backend.close();
  }
}

/**
 * Waits for `check` while every one of `children` runs: one that exits, or a timeout, fails
 * the wait at once with every child's output, so a failed run can be read afterwards.
 */
async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, children: Record<string, WeirProcess>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    const exited = Object.entries(children).find(([, c]) => c.child.exitCode !== null || c.child.signalCode !== null);
    if (exited !== undefined || Date.now() > deadline) {
      const outputs = Object.entries(children).map(([name, c]) => `--- ${name} ---\n${c.output()}`);
      const reason = exited === undefined ? 'timed out' : `${exited[0]} exited (${exited[1].child.exitCode ?? exited[1].child.signalCode})`;
      throw new Error([`${reason} waiting for ${what}`, ...outputs].join('\n'));
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

// On a loaded machine this also exercises a fetch that spans a rebalance: it hands over
// records again after the partition came back, which the router must not route twice
// (test/runtime/router.test.ts pins that down without Kafka). The mock refuses offset
// commits while its group rebalances: when the second member joins while the first is
// committing, that commit is refused and the first member's work since its last commit is
// redone (docs/semantics.md §8.4; test/kafka/commit-rejected.test.ts forces it). Before that
// rule a refused commit passed for a success and this test counted a member's first batch twice.
t.test('two processes split the partitions; after SIGKILL of one the other takes over, recovers and finishes', async (t) => {
  // Exact counts under at-least-once hold when no live member is thrown out of the group: a
  // member removed while still processing (a zombie) may append one checkpoint's changelog
  // records before its commit is refused (§8.4). This test is about a killed member, so it
  // states the 6 s session it relies on (a 2 s session passed 14 of 14 runs at load 1–8 once
  // refused commits were detected).
  const job = await kafkaJob(cluster, t.testdir(), { clientProperties: { 'session.timeout.ms': 6000 } });
  const events = generateEvents(40_000, 2_000, 41);
  const first = events.slice(0, 20_000);
  await produceTo(cluster, job.input, first);
  const a = startWeir(job, join(job.dir, 'state-a'));
  const b = startWeir(job, join(job.dir, 'state-b'));
  t.teardown(() => {
    a.child.kill('SIGKILL');
    b.child.kill('SIGKILL');
  });

  // Both members process their half of the first batch of input.
  await waitFor('the first records to be committed', async () => (await committedTotal(job)) >= first.length, 120_000, { a, b });
  // More input arrives; A dies in the middle of it.
  const rest = events.slice(20_000);
  const producing = produceTo(cluster, job.input, rest);
  await new Promise((r) => setTimeout(r, 300));
  a.child.kill('SIGKILL');
  await producing;

  // B gets A's partitions after the session timeout, recovers them, and finishes everything.
  await waitFor('B to commit every record', async () => (await committedTotal(job)) >= events.length, 180_000, { b });
  b.child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => b.child.on('exit', resolve));
  t.equal(code, 0, b.output());
  t.match(b.output(), /recovered changelog records: [1-9]\d*/, 'B recovered the partitions it took over');

  // B owns every partition at the end: its state directory holds the final state.
  const config = await job.config({ WEIR_STATE__DIR: join(job.dir, 'state-b') });
  const counts = await stateCounts(config);
  const model = modelCounts(events);
  t.same(counts, model, `the final state equals the model (${countDifference(model, counts, PARTITIONS)})`);
});
