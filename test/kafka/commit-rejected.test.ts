/**
 * docs/semantics.md §8.4 on librdkafka's mock cluster: an offset commit the group refuses
 * (as it does while it rebalances) is never taken for a success. The member gives up the
 * work since its last commit and takes its partitions up again from the committed offsets,
 * so under at-least-once every record is still counted exactly once.
 */
import t from 'tap';
import { App } from '../../runtime/app.js';
import { clearState } from '../../runtime/state-inspection.js';
import { runJob } from '../../runtime/job-runner.js';
import { KafkaLogBackend } from '../../shared/log/kafka/kafka-log-backend.js';
import { API_KEY, startMockCluster, type MockCluster } from './mock-cluster.js';
import { kafkaJob, produceTo, TEST_CLIENT_PROPERTIES } from './helpers.js';
import { generateEvents, modelCounts, stateCounts } from '../runtime/job-fixture.js';

/** Kafka's REBALANCE_IN_PROGRESS and ILLEGAL_GENERATION error codes. */
const REBALANCE_IN_PROGRESS = 27;
const ILLEGAL_GENERATION = 22;

let cluster: MockCluster;
t.before(async () => {
  cluster = await startMockCluster(1);
});
t.teardown(async () => {
  await cluster.stop();
});

for (const [name, code] of [
  ['REBALANCE_IN_PROGRESS', REBALANCE_IN_PROGRESS],
  ['ILLEGAL_GENERATION', ILLEGAL_GENERATION],
] as const) {
  t.test(`commits refused with ${name} are redone from the committed offsets: every record counted once`, async (t) => {
    const job = await kafkaJob(cluster, t.testdir(), { commitInterval: 0.1 });
    const events = generateEvents(8_000, 400, code);
    await produceTo(cluster, job.input, events);
    const config = await job.config();
    const backend = await KafkaLogBackend.open({ brokers: cluster.bootstrapServers, clientProperties: TEST_CLIENT_PROPERTIES });
    t.teardown(() => backend.close());
    const lines: string[] = [];
    // The job's first two commits are refused, as a rebalancing group refuses them.
    cluster.pushRequestErrors(API_KEY.OffsetCommit, [code, code]);
    const app = await App.create(config, backend);
    const summary = await app.run({ untilIdle: true, log: (line) => lines.push(line) });

    const log = lines.join('\n');
    t.match(log, new RegExp(`rejected an offset commit \\(${name}\\)`), 'the refusal is reported, with its reason');
    t.ok(summary.records > events.length, `records of the refused checkpoints were read again (${summary.records} processed)`);
    t.same(await stateCounts(config), modelCounts(events), 'every record counted once', { log });

    // The refused checkpoints' changelog records are still in the changelog: a rebuild skips
    // them or overwrites them with the redone ones, and nothing is left uncommitted.
    await clearState(config);
    const rerun = await runJob(config, { untilIdle: true });
    t.equal(rerun.records, 0, 'every offset was committed in the end');
    t.same(await stateCounts(config), modelCounts(events), 'the changelog rebuilds the same counts');
  });
}
