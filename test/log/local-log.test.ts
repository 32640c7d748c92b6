import t, { type Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalLogBackend } from '../../shared/log/local/local-log-backend.js';
import {
  GroupMemberConflictError,
  InvalidLogArgumentError,
  LogClosedError,
  LogLockedError,
  PartitionNotAssignedError,
} from '../../shared/errors/log-errors.js';
import type { LogRecord } from '../../shared/log/log-backend.js';
import { runLogConformance } from './conformance.js';
import { batchesOf, decodeBatchSet } from '../../shared/protocol/record-batch.js';

runLogConformance(t, 'local', (dir) => LocalLogBackend.open(dir));
runLogConformance(t, 'local (sync)', (dir) => LocalLogBackend.open(dir, { sync: true }));

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-local-log-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

const hex = (bytes: Uint8Array | null): string | null => (bytes === null ? null : Buffer.from(bytes).toString('hex'));

/** A record's content in comparable form (Buffer and Uint8Array views compare alike). */
function plain(r: LogRecord): unknown {
  return {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    key: hex(r.key),
    value: hex(r.value),
    headers: r.headers.map((h) => [h.key, hex(h.value)]),
  };
}

t.test('a second open of a locked directory fails with LogLockedError naming the path', async (t) => {
  const dir = await tempDir(t);
  const first = await LocalLogBackend.open(dir);
  t.teardown(() => first.close());
  const error = await LocalLogBackend.open(dir, { lockRetries: 2, lockRetryDelayMs: 20 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(error, LogLockedError);
  t.equal((error as LogLockedError).path, dir);
  t.match((error as Error).message, dir);
});

t.test('the lock is released by close, and a retrying open waits for it', async (t) => {
  const dir = await tempDir(t);
  const first = await LocalLogBackend.open(dir);
  const second = LocalLogBackend.open(dir, { lockRetries: 50, lockRetryDelayMs: 20 });
  setTimeout(() => void first.close(), 60);
  const log = await second;
  await log.createTopic('after-lock', 1);
  t.match(await log.describeTopic('after-lock'), { partitions: 1 });
  await log.close();
});

t.test('bad arguments name the field', async (t) => {
  const dir = await tempDir(t);
  const log = await LocalLogBackend.open(dir);
  t.teardown(() => log.close());
  await t.rejects(log.createTopic('bad/name', 1), { code: 'LOG_INVALID_ARGUMENT', field: 'topic' });
  await t.rejects(log.createTopic('', 1), InvalidLogArgumentError);
  await t.rejects(log.createTopic('ok', 0), { code: 'LOG_INVALID_ARGUMENT', field: 'partitions' });
  await t.rejects(log.createTopic('ok', 1.5), { code: 'LOG_INVALID_ARGUMENT', field: 'partitions' });
  await log.createTopic('ok', 1);
  const reader = await log.reader();
  await t.rejects(reader.read({ topic: 'ok', partition: 0 }, -1, 10), { code: 'LOG_INVALID_ARGUMENT', field: 'fromOffset' });
  await t.rejects(reader.read({ topic: 'ok', partition: 0 }, 0, -5), { code: 'LOG_INVALID_ARGUMENT', field: 'maxRecords' });
  const producer = await log.producer();
  await t.rejects(producer.append([{ topic: 'ok', key: null, value: text('x'), timestamp: Number.NaN }]), {
    code: 'LOG_INVALID_ARGUMENT',
    field: 'timestamp',
  });
  await t.rejects(producer.appendAndCommit([], '', []), { code: 'LOG_INVALID_ARGUMENT', field: 'group' });
  await t.rejects(producer.append([{ topic: 'ok', key: 'str' as unknown as Uint8Array, value: null }]), { code: 'LOG_INVALID_ARGUMENT', field: 'key' });
  t.same(await log.watermarks({ topic: 'ok', partition: 0 }), { low: 0, high: 0 }, 'nothing was written by the failures');
  await t.rejects(log.consumer(''), { code: 'LOG_INVALID_ARGUMENT', field: 'group' });
  t.throws(() => log.partitionFor(text('k'), 0), { code: 'LOG_INVALID_ARGUMENT', field: 'partitions' });
});

t.test('a group consumer refuses partitions it was not assigned', async (t) => {
  const dir = await tempDir(t);
  const log = await LocalLogBackend.open(dir);
  t.teardown(() => log.close());
  await log.createTopic('a', 2);
  await log.createTopic('b', 2);
  const consumer = await log.consumer('g');
  await consumer.subscribe(['a'], { onAssign: async () => {}, onRevoke: async () => {} });
  t.throws(() => consumer.seek({ topic: 'b', partition: 0 }, 0), PartitionNotAssignedError);
  t.throws(() => consumer.pause([{ topic: 'b', partition: 1 }]), { code: 'LOG_PARTITION_NOT_ASSIGNED', group: 'g', topic: 'b', partition: 1 });
  t.throws(() => consumer.seek({ topic: 'a', partition: 0 }, -2), { code: 'LOG_INVALID_ARGUMENT', field: 'offset' });
  await consumer.close();
});

t.test('re-subscribing revokes the old assignment and assigns the new one', async (t) => {
  const dir = await tempDir(t);
  const log = await LocalLogBackend.open(dir);
  t.teardown(() => log.close());
  await log.createTopic('a', 1);
  await log.createTopic('b', 2);
  const events: string[] = [];
  const listener = {
    onAssign: async (ps: readonly { topic: string; partition: number }[]) => void events.push(`assign ${ps.map((p) => `${p.topic}${p.partition}`).join(',')}`),
    onRevoke: async (ps: readonly { topic: string; partition: number }[]) => void events.push(`revoke ${ps.map((p) => `${p.topic}${p.partition}`).join(',')}`),
  };
  const consumer = await log.consumer('g');
  await consumer.subscribe(['a'], listener);
  await consumer.subscribe(['a', 'b'], listener);
  await consumer.close();
  await consumer.close();
  t.same(events, ['assign a0', 'revoke a0', 'assign a0,b0,b1', 'revoke a0,b0,b1']);
});

t.test('concurrent appends get distinct, gap-free offsets and all become readable', async (t) => {
  const dir = await tempDir(t);
  const log = await LocalLogBackend.open(dir);
  t.teardown(() => log.close());
  await log.createTopic('busy', 2);
  const producers = await Promise.all([log.producer(), log.producer(), log.producer()]);
  const calls = Array.from({ length: 60 }, (_, i) =>
    producers[i % 3]!.append(
      Array.from({ length: 1 + (i % 7) }, (_, j) => ({ topic: 'busy', partition: (i + j) % 2, key: null, value: text(`${i}-${j}`) })),
    ),
  );
  const results = (await Promise.all(calls)).flat();
  for (const partition of [0, 1]) {
    const offsets = results.filter((r) => r.partition === partition).map((r) => r.offset).sort((a, b) => a - b);
    t.same(offsets, offsets.map((_, i) => i), `partition ${partition}: offsets 0..n-1, each once`);
    const reader = await log.reader();
    const read = await reader.read({ topic: 'busy', partition }, 0, 10_000);
    t.equal(read.length, offsets.length, `partition ${partition}: all readable`);
  }
});

t.test('operations after close fail with LogClosedError; a waiting poll returns empty', async (t) => {
  const dir = await tempDir(t);
  const log = await LocalLogBackend.open(dir);
  await log.createTopic('t', 1);
  const consumer = await log.consumer('g');
  await consumer.subscribe(['t'], { onAssign: async () => {}, onRevoke: async () => {} });
  const waiting = consumer.poll(10, 60_000);
  const producer = await log.producer();
  await log.close();
  t.same(await waiting, [], 'the waiting poll ends');
  await t.rejects(producer.append([{ topic: 't', key: null, value: null }]), LogClosedError);
  await t.rejects(log.listTopics(), LogClosedError);
  await t.rejects(consumer.poll(1, 1), LogClosedError);
  await log.close();
});

t.test('a group has one member at a time', async (t) => {
  const dir = await tempDir(t);
  const log = await LocalLogBackend.open(dir);
  t.teardown(() => log.close());
  await log.createTopic('t', 1);
  const listener = { onAssign: async () => {}, onRevoke: async () => {} };
  const first = await log.consumer('g');
  await first.subscribe(['t'], listener);
  const second = await log.consumer('g');
  await t.rejects(second.subscribe(['t'], listener), GroupMemberConflictError);
  const otherGroup = await log.consumer('h');
  await otherGroup.subscribe(['t'], listener);
  await first.close();
  await second.subscribe(['t'], listener);
  t.same(second.assignment(), [{ topic: 't', partition: 0 }], 'after the first closes, the second joins');
  await second.close();
  await otherGroup.close();
});

t.test('readEncoded gives the records of read as one batch set of whole stored batches', async (t) => {
  const log = await LocalLogBackend.open(t.testdir());
  t.teardown(() => log.close());
  const topic = 'changelog__a--t--s';
  await log.createTopic(topic, 2, { compact: true });
  const producer = await log.producer();
  const text = new TextEncoder();
  // Three appends: three stored batches of 50, 30 and 20 records.
  for (const [start, count] of [[0, 50], [50, 30], [80, 20]] as const) {
    await producer.append(
      Array.from({ length: count }, (_, n) => {
        const i = start + n;
        return {
          topic,
          partition: 1,
          key: i % 7 === 0 ? null : text.encode(`"k${i}"|"count"`),
          value: i % 5 === 0 ? null : i % 11 === 0 ? new Uint8Array(0) : text.encode(String(i)),
          headers:
            i % 3 === 0
              ? []
              : [
                  { key: '__column_family__', value: text.encode('default') },
                  { key: '__processed_tp_offsets__', value: i % 4 === 0 ? null : text.encode(`{"t":${i}}`) },
                ],
          timestamp: 1_700_000_000_000 + i,
        };
      }),
    );
  }
  const reader = await log.reader();
  const tp = { topic, partition: 1 };
  const all = await reader.read(tp, 0, 1_000);
  t.equal(all.length, 100);
  for (const [from, max, batches, count] of [
    [0, 100, 3, 100],
    [0, 50, 1, 50],
    [0, 51, 2, 51],
    [10, 7, 1, 7],
    [49, 10, 2, 10],
    [60, 1_000, 2, 40],
    [99, 10, 1, 1],
    [100, 10, 0, 0],
  ] as const) {
    const records = await reader.read(tp, from, max);
    const encoded = await reader.readEncoded(tp, from, max);
    const set = batchesOf(encoded.buffer);
    t.equal(set.fromOffset, from, `the set starts at ${from}`);
    t.equal(set.batches.length, batches, `from ${from} max ${max}: ${batches} whole stored batch(es)`);
    t.equal(encoded.count, count, `from ${from} max ${max}: count counts the records from ${from}`);
    const decoded = decodeBatchSet(encoded.buffer, topic, 1);
    t.equal(decoded.length, count);
    t.same(decoded.slice(0, max).map(plain), records.map(plain), `from ${from} max ${max}: decodes to the records of read`);
    t.same(decoded.map(plain), all.slice(from, from + count).map(plain), 'and the rest are the next records');
    if (count > 0) t.equal(encoded.lastOffset, decoded[decoded.length - 1]!.offset, 'lastOffset is the last record');
    t.equal(encoded.nextOffset, from + count, 'nextOffset is after the last record: exactly max records, the last batch shipped whole but bounded');
  }
  await reader.close();
  await producer.close();
});

t.test('a poll allots max to the partitions in turn: at the tail every partition gives its new records, with a backlog the first ones take the poll', async (t) => {
  const log = await LocalLogBackend.open(await tempDir(t));
  t.teardown(() => log.close());
  await log.createTopic('turns', 4);
  const producer = await log.producer();
  const appendTo = (partition: number, n: number) =>
    producer.append(Array.from({ length: n }, (_, i) => ({ topic: 'turns', partition, key: null, value: text(`${partition}:${i}`) })));
  for (let p = 0; p < 4; p++) await appendTo(p, 2);
  const consumer = await log.consumer('g');
  await consumer.subscribe(['turns'], { onAssign: async () => {}, onRevoke: async () => {} });

  const partitionsOf = (records: readonly LogRecord[]) => records.map((r) => r.partition);
  t.same(partitionsOf(await consumer.poll(5, 0)), [0, 0, 1, 1, 2], 'five of eight: in turn, the third partition cut after one');
  t.same(partitionsOf(await consumer.poll(10, 0)), [3, 3, 2], 'the next poll starts after the last partition read, the cut one last');

  for (let p = 0; p < 4; p++) await appendTo(p, 1);
  const tail = await consumer.pollBatches(100, 0);
  t.same(
    tail.map((set) => [set.partition, set.count]),
    [[3, 1], [0, 1], [1, 1], [2, 1]],
    'at the tail every partition gives its new record in one poll',
  );

  await appendTo(1, 30);
  await appendTo(2, 30);
  const backlog = await consumer.pollBatches(20, 0);
  t.same(backlog.map((set) => [set.partition, set.count]), [[1, 20]], 'with a backlog the first partition in turn takes the whole poll');
  const rest = await consumer.pollBatches(100, 0);
  t.same(rest.map((set) => [set.partition, set.count]), [[2, 30], [1, 10]], 'the next poll starts after it: the second partition, then the rest of the first');
});

t.test('a poll at the tail of several partitions reads more remembered batches than it reads synchronously', async (t) => {
  const dir = await tempDir(t);
  const log = await LocalLogBackend.open(dir);
  t.teardown(() => log.close());
  await log.createTopic('many', 2);
  const producer = await log.producer();
  // 50 one-record batches per partition, all remembered: 100 entries read by key in one poll.
  for (let i = 0; i < 50; i++) {
    await producer.append([0, 1].map((partition) => ({ topic: 'many', partition, key: null, value: text(`${partition}-${i}`) })));
  }
  const consumer = await log.consumer('g');
  await consumer.subscribe(['many'], { onAssign: async () => {}, onRevoke: async () => {} });
  const records = await consumer.poll(1000, 0);
  t.same(
    records.map((r) => `${r.partition}:${r.offset}:${Buffer.from(r.value!).toString()}`),
    [0, 1].flatMap((partition) => Array.from({ length: 50 }, (_, i) => `${partition}:${i}:${partition}-${i}`)),
  );
});

t.test('a consumer reads the same records whether they are among the batches last appended or older', async (t) => {
  const dir = await tempDir(t);
  let log = await LocalLogBackend.open(dir);
  await log.createTopic('tail', 2);
  let producer = await log.producer();
  // 100 appends of one record each: more batches than a partition remembers for tail reads.
  for (let i = 0; i < 100; i++) await producer.append([{ topic: 'tail', partition: 0, key: null, value: text(`old-${i}`) }]);
  const listener = { onAssign: async () => {}, onRevoke: async () => {} };
  let consumer = await log.consumer('g');
  await consumer.subscribe(['tail'], listener);
  const values = (records: readonly LogRecord[]) => records.map((r) => `${r.offset}:${Buffer.from(r.value!).toString()}`);
  const first = await consumer.poll(30, 0);
  t.same(values(first), Array.from({ length: 30 }, (_, i) => `${i}:old-${i}`), 'from the start: older than the batches remembered');
  const rest = await consumer.poll(1000, 0);
  t.same(values(rest), Array.from({ length: 70 }, (_, i) => `${i + 30}:old-${i + 30}`), 'then into the remembered ones');
  await producer.append([0, 1, 2].map((i) => ({ topic: 'tail', partition: 0, key: null, value: text(`new-${i}`) })));
  await producer.append([{ topic: 'tail', partition: 1, key: null, value: text('other') }]);
  t.same(values(await consumer.poll(3, 0)), ['0:other', '100:new-0', '101:new-1'], 'at the tail, in turn from the other partition, cut at max inside a batch');
  t.same(values(await consumer.poll(10, 0)), ['102:new-2'], 'and on from there');
  await consumer.commit([{ topic: 'tail', partition: 0, offset: 95 }]);
  await consumer.close();
  await log.close();

  // Reopened: nothing is remembered, everything is read by iterator.
  log = await LocalLogBackend.open(dir);
  t.teardown(() => log.close());
  producer = await log.producer();
  consumer = await log.consumer('g');
  await consumer.subscribe(['tail'], listener);
  t.same(values(await consumer.poll(100, 0)).slice(0, 8), ['95:old-95', '96:old-96', '97:old-97', '98:old-98', '99:old-99', '100:new-0', '101:new-1', '102:new-2']);
  await producer.append([{ topic: 'tail', partition: 0, key: null, value: text('after') }]);
  t.same(values(await consumer.poll(100, 0)), ['103:after'], 'an append after the reopen is read at the tail');
});
