/**
 * The Kafka backend against librdkafka's in-process mock cluster: what the conformance
 * suite cannot show (rebalances between members, the mock's auto-creation fallback,
 * transactions' call sequence, secrets).
 */
import t from 'tap';
import { PartitionOutOfRangeError, TopicNotFoundError, TopicPartitionCountMismatchError } from '../../shared/errors/log-errors.js';
import { tpKey, type AppendRecord } from '../../shared/log/log-backend.js';
import { bytes, collapseRepeatedRebalances, openBackend, pollUntil, recordingListener, text, unique } from './helpers.js';
import { startMockCluster } from './mock-cluster.js';

const cluster = await startMockCluster();
t.teardown(() => cluster.stop());
const log = await openBackend(cluster);
t.teardown(() => log.close());

t.test('createTopic without a provisioner: CreateTopics times out on the mock, auto-creation gives 4 partitions, counts are validated', async (t) => {
  const log = await openBackend(cluster, { topicProvisioner: undefined });
  t.teardown(() => log.close());
  const topic = unique('create');
  t.equal(await log.describeTopic(topic), undefined, 'missing before');
  await log.createTopic(topic, 4, { compact: true });
  t.match(await log.describeTopic(topic), { name: topic, partitions: 4, config: { compact: true } });
  await log.createTopic(topic, 4);
  await t.rejects(log.createTopic(topic, 3), TopicPartitionCountMismatchError, 'another count is refused');
  t.ok((await log.listTopics()).some((d) => d.name === topic && d.partitions === 4), 'listed');
  const other = unique('create-8');
  await t.rejects(log.createTopic(other, 8), TopicPartitionCountMismatchError, 'the mock cannot give 8 partitions, and says so');
});

t.test('append and read back: keys, headers, tombstones, timestamps, offsets in input order', async (t) => {
  const topic = unique('append');
  await log.createTopic(topic, 4);
  const producer = await log.producer();
  t.teardown(() => producer.close());
  const records: AppendRecord[] = [
    { topic, partition: 0, key: bytes('k1'), value: bytes('v1'), timestamp: 1_700_000_000_000 },
    {
      topic,
      partition: 0,
      key: bytes('k2'),
      value: bytes('v2'),
      timestamp: 1_700_000_000_001,
      headers: [
        { key: 'trace', value: bytes('abc') },
        { key: 'trace', value: bytes('def') },
      ],
    },
    { topic, partition: 3, key: null, value: bytes('no key'), timestamp: 1_700_000_000_002 },
    { topic, partition: 3, key: bytes('tombstone'), value: null, timestamp: 1_700_000_000_003 },
  ];
  const results = await producer.append(records);
  t.same(results.map((r) => [r.partition, r.offset]), [[0, 0], [0, 1], [3, 0], [3, 1]], 'offsets in input order');
  const reader = await log.reader();
  t.teardown(() => reader.close());
  const p0 = await reader.read({ topic, partition: 0 }, 0, 100);
  t.same(
    p0.map((r) => [text(r.key), text(r.value), r.headers.map((h) => [h.key, text(h.value)]), r.timestamp]),
    [
      ['k1', 'v1', [], 1_700_000_000_000],
      ['k2', 'v2', [['trace', 'abc'], ['trace', 'def']], 1_700_000_000_001],
    ],
  );
  const p3 = await reader.read({ topic, partition: 3 }, 0, 100);
  t.same(p3.map((r) => [text(r.key), text(r.value)]), [[null, 'no key'], ['tombstone', null]]);
  t.same(await reader.read({ topic, partition: 3 }, 1, 100).then((rs) => rs.map((r) => r.offset)), [1], 'from a middle offset');
  t.same(await reader.read({ topic, partition: 1 }, 0, 100), [], 'an empty partition reads empty');
  t.same(await log.watermarks({ topic, partition: 0 }), { low: 0, high: 2 });
  t.same(await log.watermarks({ topic, partition: 2 }), { low: 0, high: 0 });
});

t.test('reads in batches, sequentially', async (t) => {
  const topic = unique('batches');
  await log.createTopic(topic, 4);
  const producer = await log.producer();
  t.teardown(() => producer.close());
  for (let start = 0; start < 2_500; start += 1_000) {
    const count = Math.min(1_000, 2_500 - start);
    await producer.append(Array.from({ length: count }, (_, i) => ({ topic, partition: 2, key: null, value: bytes(`v${start + i}`) })));
  }
  const reader = await log.reader();
  t.teardown(() => reader.close());
  const values: string[] = [];
  let from = 0;
  for (;;) {
    const batch = await reader.read({ topic, partition: 2 }, from, 1_000);
    if (batch.length === 0) break;
    t.ok(batch.length <= 1_000);
    values.push(...batch.map((r) => text(r.value)!));
    from = batch[batch.length - 1]!.offset + 1;
  }
  t.equal(values.length, 2_500);
  t.ok(values.every((value, i) => value === `v${i}`), 'every record once, in order');
});

t.test('keyed records without a partition land on partitionFor(key) (librdkafka murmur2_random)', async (t) => {
  const topic = unique('placement');
  await log.createTopic(topic, 4);
  const producer = await log.producer();
  t.teardown(() => producer.close());
  const keys = Array.from({ length: 100 }, (_, i) => `customer-${i}`);
  const results = await producer.append(keys.map((key) => ({ topic, key: bytes(key), value: bytes(key) })));
  t.ok(results.every((r, i) => r.partition === log.partitionFor(bytes(keys[i]!), 4)));
  t.equal(log.partitionFor(bytes('foobar'), 12), (-790332482 & 0x7fffffff) % 12, 'Kafka test vector');
});

t.test('typed errors: missing topic, partition out of range', async (t) => {
  const topic = unique('errors');
  await log.createTopic(topic, 4);
  const missing = unique('missing');
  const producer = await log.producer();
  t.teardown(() => producer.close());
  const reader = await log.reader();
  t.teardown(() => reader.close());
  await t.rejects(producer.append([{ topic: missing, key: null, value: bytes('x') }]), TopicNotFoundError);
  await t.rejects(producer.append([{ topic, partition: 4, key: null, value: bytes('x') }]), PartitionOutOfRangeError);
  await t.rejects(reader.read({ topic: missing, partition: 0 }, 0, 1), TopicNotFoundError);
  await t.rejects(log.watermarks({ topic, partition: -1 }), PartitionOutOfRangeError);
  const consumer = await log.consumer(unique('group'));
  t.teardown(() => consumer.close());
  await t.rejects(consumer.subscribe([missing], recordingListener().listener), TopicNotFoundError);
  t.equal(await log.describeTopic(missing), undefined, 'no check created the missing topic');
});

t.test('group: poll, commit, committed without joining, resume from the commit in a new member', async (t) => {
  const topic = unique('group');
  const group = unique('g');
  await log.createTopic(topic, 4);
  const producer = await log.producer();
  t.teardown(() => producer.close());
  await producer.append(Array.from({ length: 40 }, (_, i) => ({ topic, partition: i % 4, key: bytes(`k${i}`), value: bytes(`v${i}`) })));
  const first = await log.consumer(group);
  const recorded = recordingListener();
  await first.subscribe([topic], recorded.listener);
  const records = await pollUntil(first, 40);
  t.equal(records.length, 40, 'every record polled');
  t.same(collapseRepeatedRebalances(recorded.events), ['assign:0,1,2,3']);
  t.equal(first.assignment().length, 4);
  for (let p = 0; p < 4; p++) {
    const offsets = records.filter((r) => r.partition === p).map((r) => r.offset);
    t.same(offsets, [...offsets].sort((a, b) => a - b), `partition ${p} in order`);
  }
  const tp0 = { topic, partition: 0 };
  t.equal((await first.committed([tp0])).get(tpKey(tp0)), undefined, 'nothing committed yet');
  await first.commit([{ ...tp0, offset: 6 }]);
  t.equal((await first.committed([tp0])).get(tpKey(tp0)), 6);
  t.equal((await log.committedOffsets(group, [tp0])).get(tpKey(tp0)), 6, 'read without joining');
  await first.close();
  t.same(collapseRepeatedRebalances(recorded.events), ['assign:0,1,2,3', 'revoke:0,1,2,3'], 'close revokes');

  const second = await log.consumer(group);
  t.teardown(() => second.close());
  await second.subscribe([topic], recordingListener().listener);
  const resumed = await pollUntil(second, 4 + 30);
  const fromP0 = resumed.filter((r) => r.partition === 0);
  t.same(fromP0.map((r) => r.offset), [6, 7, 8, 9], 'partition 0 resumes at the committed offset');
  t.equal(resumed.length, 34, 'uncommitted partitions start from the beginning');
});

t.test('pause, resume and seek', async (t) => {
  const topic = unique('pause');
  await log.createTopic(topic, 4);
  const producer = await log.producer();
  t.teardown(() => producer.close());
  await producer.append(Array.from({ length: 40 }, (_, i) => ({ topic, partition: i % 2, key: null, value: bytes(`v${i}`) })));
  const consumer = await log.consumer(unique('g'));
  t.teardown(() => consumer.close());
  const p0 = { topic, partition: 0 };
  // Paused while assigning: nothing of p0 is delivered until resumed.
  await consumer.subscribe([topic], recordingListener(async () => consumer.pause([p0])).listener);
  const whilePaused = await pollUntil(consumer, 20);
  t.ok(whilePaused.length === 20 && whilePaused.every((r) => r.partition === 1), 'only the unpaused partition');
  t.same(await consumer.poll(10, 300), [], 'drained');
  consumer.resume([p0]);
  const resumed = await pollUntil(consumer, 20);
  t.same(resumed.map((r) => text(r.value)), Array.from({ length: 20 }, (_, i) => `v${i * 2}`), 'p0 from the start');
  consumer.seek(p0, 15);
  const again = await pollUntil(consumer, 5);
  t.same(again.map((r) => r.offset), [15, 16, 17, 18, 19], 'seek back re-reads');
  t.throws(() => consumer.seek({ topic: unique('other'), partition: 0 }, 0), { code: 'LOG_PARTITION_NOT_ASSIGNED' });
});

t.test('rebalance: a second member joins, the range assignor splits the partitions, listeners are awaited', async (t) => {
  const topic = unique('rebalance');
  const group = unique('g');
  await log.createTopic(topic, 4);
  const producer = await log.producer();
  t.teardown(() => producer.close());
  await producer.append(Array.from({ length: 8 }, (_, i) => ({ topic, partition: i % 4, key: null, value: bytes(`v${i}`) })));
  const a = await log.consumer(group);
  const aEvents = recordingListener();
  await a.subscribe([topic], aEvents.listener);
  t.equal((await pollUntil(a, 8)).length, 8);
  await a.commit([0, 1, 2, 3].map((partition) => ({ topic, partition, offset: 2 })));

  const other = await openBackend(cluster);
  t.teardown(() => other.close());
  const b = await other.consumer(group);
  let assignDone = false;
  const bEvents = recordingListener(async () => {
    // Records of assigned partitions must wait for this.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assignDone = true;
  });
  await b.subscribe([topic], bEvents.listener);
  // Both members must keep polling for the group to rebalance.
  const deadline = Date.now() + 30_000;
  while ((a.assignment().length !== 2 || b.assignment().length !== 2 || !assignDone) && Date.now() < deadline) {
    await Promise.all([a.poll(10, 100), b.poll(10, 100)]);
  }
  t.equal(a.assignment().length, 2, 'a keeps two partitions');
  t.equal(b.assignment().length, 2, 'b gets two');
  t.same(
    [...a.assignment(), ...b.assignment()].map((tp) => tp.partition).sort(),
    [0, 1, 2, 3],
    'together they own every partition once',
  );
  // Extra rebalances that hand a member the same partitions again happen on a loaded machine; each
  // revoke must still match the assignment before it, and the net history must be this.
  t.same(collapseRepeatedRebalances(aEvents.events), [
    'assign:0,1,2,3',
    'revoke:0,1,2,3',
    `assign:${a.assignment().map((tp) => tp.partition).sort().join(',')}`,
  ]);
  t.same(collapseRepeatedRebalances(bEvents.events), [`assign:${b.assignment().map((tp) => tp.partition).sort().join(',')}`]);
  await producer.append(b.assignment().map((tp) => ({ ...tp, key: null, value: bytes('late') })));
  const bRecords = await pollUntil(b, 2);
  t.same(bRecords.map((r) => text(r.value)), ['late', 'late'], 'b resumes at the committed offsets');
  await b.close();
  await a.close();
});

t.test('appendAndCommit: the transactional call sequence (the mock ignores offsets sent in a transaction)', async (t) => {
  const input = unique('tx-in');
  const output = unique('tx-out');
  const group = unique('g');
  await log.createTopic(input, 4);
  await log.createTopic(output, 4);
  const producer = await log.producer();
  t.teardown(() => producer.close());
  const results = await producer.appendAndCommit(
    [
      { topic: output, partition: 0, key: bytes('a'), value: bytes('1') },
      { topic: output, partition: 1, key: bytes('b'), value: bytes('2') },
    ],
    group,
    [{ topic: input, partition: 0, offset: 5 }],
  );
  t.same(results.map((r) => [r.topic, r.partition, r.offset]), [[output, 0, 0], [output, 1, 0]]);
  const second = await producer.appendAndCommit([{ topic: output, partition: 0, key: null, value: bytes('3') }], group, []);
  t.equal(second[0]?.offset, 2, 'the commit marker of the first transaction took offset 1');
  const reader = await log.reader();
  t.teardown(() => reader.close());
  t.same((await reader.read({ topic: output, partition: 0 }, 0, 10)).map((r) => text(r.value)), ['1', '3'], 'committed records are read');
  await t.rejects(
    producer.appendAndCommit([{ topic: output, partition: 9, key: null, value: bytes('x') }], group, []),
    PartitionOutOfRangeError,
    'validated before the transaction starts',
  );
  const after = await producer.appendAndCommit([{ topic: output, partition: 2, key: null, value: bytes('4') }], group, []);
  t.equal(after[0]?.partition, 2, 'the producer still works after a refused unit');
});

t.test('lost: a member that stops polling past max.poll.interval.ms gets onLost, not onRevoke', async (t) => {
  const topic = unique('lost');
  const lazy = await openBackend(cluster, {
    clientProperties: { 'session.timeout.ms': 6000, 'heartbeat.interval.ms': 500, 'max.poll.interval.ms': 6000 },
  });
  t.teardown(() => lazy.close());
  await lazy.createTopic(topic, 2);
  const consumer = await lazy.consumer(unique('g'));
  const recorded = recordingListener();
  await consumer.subscribe([topic], recorded.listener);
  const deadline = Date.now() + 20_000;
  while (consumer.assignment().length < 2 && Date.now() < deadline) await consumer.poll(10, 100);
  t.same(collapseRepeatedRebalances(recorded.events), ['assign:0,1']);
  // Stop polling: librdkafka leaves the group once max.poll.interval.ms passes.
  await new Promise((resolve) => setTimeout(resolve, 7_500));
  const until = Date.now() + 20_000;
  while (!recorded.events.some((e) => e.startsWith('lost')) && Date.now() < until) {
    await consumer.poll(10, 100).catch(() => []);
  }
  t.equal(recorded.events[1], 'lost:0,1', 'the assignment is reported lost');
  t.notOk(recorded.events.includes('revoke:0,1'), 'onRevoke was not called for it');
  await consumer.close();
});

t.test('close calls onRevoke while still a member: a checkpoint commit inside it lands', async (t) => {
  const topic = unique('close-commit');
  const group = unique('g');
  await log.createTopic(topic, 1);
  const producer = await log.producer();
  t.teardown(() => producer.close());
  await producer.append(Array.from({ length: 5 }, (_, i) => ({ topic, partition: 0, key: null, value: bytes(`v${i}`) })));
  const consumer = await log.consumer(group);
  let processed = 0;
  await consumer.subscribe([topic], {
    onAssign: async () => {},
    onRevoke: async (partitions) => {
      await consumer.commit(partitions.map((tp) => ({ ...tp, offset: processed })));
    },
  });
  processed = (await pollUntil(consumer, 5)).length;
  await consumer.close();
  const tp = { topic, partition: 0 };
  t.equal((await log.committedOffsets(group, [tp])).get(tpKey(tp)), 5, 'committed from onRevoke at close');
});
