/**
 * A query for a key whose partition this process does not own: the 503 names the group
 * member owning it when the backend can tell (`LogBackend.partitionOwner`), the
 * partition only when it cannot; the local log names no one (one process owns every
 * partition). On Kafka the group is described in a child process: librdkafka's mock
 * cluster answers no DescribeGroups, and the binding's describeGroups crashes its process
 * then; the job's process survives and names no owner (docs/server.md).
 */
import t from 'tap';
import Fastify from 'fastify';
import { LocalLogBackend } from '../../shared/log/local/local-log-backend.js';
import type { GroupMember, LogBackend, TopicPartition } from '../../shared/log/log-backend.js';
import { registerQueryRoutes } from '../../runtime/server/query-routes.js';
import { RunningJobView, type RunningJobParts } from '../../runtime/server/running-job.js';
import type { KafkaLogBackend } from '../../shared/log/kafka/kafka-log-backend.js';
import type { GroupConsumer } from '../../shared/log/log-backend.js';
import { startMockCluster } from '../kafka/mock-cluster.js';
import { openBackend, TEST_CLIENT_PROPERTIES, unique } from '../kafka/helpers.js';
import { waitFor } from './served-job.js';

t.test('the local log names no owner', async (t) => {
  const backend = await LocalLogBackend.open(t.testdir());
  t.teardown(() => backend.close());
  await backend.createTopic('events', 2);
  t.equal(await backend.partitionOwner('app', { topic: 'events', partition: 0 }), undefined);
});

/** A job view whose process owns no partition of `events` (4 partitions), on `backend`. */
function unownedJob(backend: Pick<LogBackend, 'partitionOwner'>): RunningJobView {
  const local = {
    describeTopic: async (name: string) => ({ name, partitions: 4 }),
    partitionFor: (_key: Uint8Array | null, partitions: number) => 3 % partitions,
    ...backend,
  };
  const view = new RunningJobView();
  view.attach({
    backend: local,
    lifecycle: { assignment: { ownerOf: () => undefined }, isRecovering: () => false },
    workers: [],
    stores: ['counts'],
    inputTopics: ['events'],
    isFailed: () => false,
    isStopping: () => false,
  } as unknown as RunningJobParts);
  return view;
}

async function askUnowned(backend: Pick<LogBackend, 'partitionOwner'>, group = 'app'): Promise<{ status: number; body: Record<string, unknown> }> {
  const server = Fastify();
  registerQueryRoutes(server, unownedJob(backend), group);
  const response = await server.inject({ method: 'GET', url: '/stores/counts/keys/%22k1%22' });
  await server.close();
  return { status: response.statusCode, body: response.json() };
}

t.test('503 NOT_OWNER names the owning member where the backend can tell', async (t) => {
  const asked: Array<{ group: string; tp: TopicPartition }> = [];
  const owner: GroupMember = { memberId: 'weir-2-7f3c', clientId: 'weir-2', host: '/10.0.0.7' };
  const named = await askUnowned({
    partitionOwner: async (group, tp) => {
      asked.push({ group, tp });
      return owner;
    },
  }, 'my-app');
  t.equal(named.status, 503);
  t.same(named.body, {
    error: 'NOT_OWNER',
    message: 'partition 3 of key "k1" is owned by group member weir-2-7f3c (client weir-2 on /10.0.0.7); ask its server',
    partition: 3,
    owner,
  });
  t.same(asked, [{ group: 'my-app', tp: { topic: 'events', partition: 3 } }], 'the job\'s group and the key\'s input partition are asked about');

  const nobody = await askUnowned({ partitionOwner: async () => undefined });
  t.equal(nobody.status, 503);
  t.same(nobody.body, {
    error: 'NOT_OWNER',
    message: 'partition 3 of key "k1" is not assigned to this process (another member of the job\'s group owns it, or a rebalance is under way)',
    partition: 3,
  }, 'no owner known: the partition only');

  const failing = await askUnowned({ partitionOwner: async () => Promise.reject(new Error('coordinator not available')) });
  t.equal(failing.status, 503, 'a failed look-up answers as if no owner were known');
  t.notOk('owner' in failing.body);

  const without = await askUnowned({});
  t.equal(without.status, 503, 'a backend without partitionOwner');
  t.same(without.body, nobody.body);
});

t.test('Kafka mock cluster (no DescribeGroups): a two-member group, no owner named, the process survives', async (t) => {
  const cluster = await startMockCluster(3);
  const topic = unique('owned');
  const group = unique('group');
  cluster.createTopic(topic, 4);
  const backends: KafkaLogBackend[] = [];
  const consumers: GroupConsumer[] = [];
  t.teardown(async () => {
    for (const c of consumers) await c.close();
    for (const b of backends) await b.close();
    await cluster.stop();
  });
  for (const clientId of ['member-a', 'member-b']) {
    const backend = await openBackend(cluster, { clientProperties: { ...TEST_CLIENT_PROPERTIES, 'client.id': clientId } });
    backends.push(backend);
    const consumer = await backend.consumer(group);
    consumers.push(consumer);
    await consumer.subscribe([topic], { onAssign: async () => {}, onRevoke: async () => {}, onLost: async () => {} });
  }
  let polling = true;
  const pollers = consumers.map(async (c) => {
    while (polling) await c.poll(10, 100);
  });
  await waitFor(() => consumers.every((c) => c.assignment().length === 2), 'both members assigned');
  // In this process the binding would crash it (SIGSEGV); the child answers nothing instead.
  t.equal(await backends[0]!.partitionOwner(group, { topic, partition: 0 }), undefined, 'no owner named');
  t.equal(await backends[1]!.partitionOwner(group, { topic, partition: 1 }), undefined);
  polling = false;
  await Promise.all(pollers);
  t.ok(consumers.every((c) => c.assignment().length === 2), 'the members still run');
});
