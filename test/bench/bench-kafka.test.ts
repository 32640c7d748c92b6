import t from 'tap';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { runWeir } from '../cli/fixtures/run-weir.js';
import { startMockCluster } from '../kafka/mock-cluster.js';
import type { BenchReport } from '../../bench/engine/bench-report.js';
import { createBenchJob } from './fixtures/bench-job.js';

// librdkafka's mock cluster never answers CreateTopics: each topic the bench or the job
// creates costs the Kafka backend's 10 s create timeout before auto-creation (4 partitions).
t.setTimeout(600_000);

const cluster = await startMockCluster(1);
t.teardown(() => cluster.stop());

t.test('weir bench on the kafka backend: input to a fresh topic on the cluster, processing and recovery measured', async (t) => {
  const dir = t.testdir();
  cluster.createTopic('counts', 4);
  const { config } = await createBenchJob(
    dir,
    [],
    `{ backend: kafka, brokers: "${cluster.bootstrapServers}", clientProperties: { "session.timeout.ms": 6000, "heartbeat.interval.ms": 500 } }`,
  );
  const result = await runWeir(['bench', '-c', config, '--records', '600', '--keys', '50', '--workers', '1', '--json']);
  t.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout) as BenchReport;
  t.equal(report.backend, 'kafka');
  t.match(report.warnings, [/topics whose names contain "bench-[0-9a-z]+"/, /appended their outputs to counts on the cluster/]);
  t.match(result.stderr, /^weir: warning: the runs created topics/m, 'warnings go to stderr, beside the JSON');
  const [run] = report.runs;
  t.match(run, {
    workers: 1,
    records: 600,
    outputRecords: 600,
    ratio: 1,
    recovery: { ratio: 1 },
  });
  // One record per updated key per checkpoint: 50 keys, and more than one checkpoint when the
  // 600 records take longer than a commit interval (a loaded machine).
  t.ok(run!.checkpoints >= 1, 'checkpointed');
  t.ok(run!.changelog.records > 0 && run!.changelog.records <= 50 * run!.checkpoints, `one changelog record per key per checkpoint (${run!.changelog.records} in ${run!.checkpoints})`);
  t.equal(run!.recovery.records, run!.changelog.records, 'recovery replays the changelog from the cluster');
  t.ok(run!.recovery.recordsPerSecond! > 0);
  t.ok(run!.stateBytes > 0 && run!.peakRssBytes > 0);
  t.notOk(await access(join(dir, 'state')).then(() => true, () => false), "the config's own state folder was never created");
});
