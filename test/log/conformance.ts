/**
 * The log conformance suite: the behaviour every `LogBackend` must show. Each backend
 * runs it from its own test file:
 *
 *   runLogConformance(t, 'local', (dir) => LocalLogBackend.open(dir));
 *
 * `makeBackend(dir)` is called once per case with a fresh empty directory, and again
 * with the same directory where a case reopens the log ("after reopen" cases), so a
 * backend that keeps its data elsewhere (a Kafka cluster) must reach the same data
 * from the same `dir`. Topic and group names are unique per case, so one cluster may
 * serve every case. A backend that cannot run a case lists it in `options.skip` with
 * the reason; the case then shows as skipped with that reason.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Test } from 'tap';
import type {
  AppendRecord,
  GroupConsumer,
  LogBackend,
  LogRecord,
  PartitionBatchSet,
  RebalanceListener,
  TopicPartition,
} from '../../shared/log/log-backend.js';
import { tpKey } from '../../shared/log/log-backend.js';
import {
  PartitionOutOfRangeError,
  TopicNotFoundError,
  TopicPartitionCountMismatchError,
} from '../../shared/errors/log-errors.js';
import { decodeBatchSet, RecordBatchBuilder } from '../../shared/protocol/record-batch.js';

/** The cases of the suite, by the id `options.skip` uses. */
export const LOG_CONFORMANCE_CASES = [
  'topics',
  'topic-config',
  'append-read',
  'offsets-per-partition',
  'watermarks',
  'read-batches',
  'partitioner',
  'committed-offsets',
  'consumer-poll',
  'consumer-poll-waits',
  'consumer-pause-resume',
  'consumer-seek',
  'consumer-resume-from-committed',
  'append-and-commit',
  'append-and-commit-atomic',
  'errors',
  'durable-after-reopen',
  'append-batches',
  'append-batches-and-commit',
  'poll-batches',
  'read-inside-batch',
] as const;

export type LogConformanceCase = (typeof LOG_CONFORMANCE_CASES)[number];

export interface LogConformanceOptions {
  /** Cases this backend cannot run, each with the reason shown in the test output. */
  readonly skip?: Partial<Record<LogConformanceCase, string>>;
  /** Milliseconds a consumer may need before its first records arrive. Default 10,000. */
  readonly pollPatienceMs?: number;
}

type MakeBackend = (dir: string) => Promise<LogBackend>;

interface CaseContext {
  readonly t: Test;
  readonly dir: string;
  /** Opens the backend on this case's directory; closed at the end of the case. */
  readonly open: () => Promise<LogBackend>;
  /** A topic or group name unique to this case. */
  readonly unique: (base: string) => string;
  readonly pollPatienceMs: number;
}

let uniqueCounter = 0;

export function runLogConformance(
  t: Test,
  name: string,
  makeBackend: MakeBackend,
  options: LogConformanceOptions = {},
): void {
  const runId = `${process.pid}-${Date.now().toString(36)}`;
  for (const id of LOG_CONFORMANCE_CASES) {
    const skip = options.skip?.[id];
    const title = `${name} log conformance: ${id}`;
    if (skip !== undefined) {
      t.test(title, { skip: `${name} cannot run it: ${skip}` }, async () => {});
      continue;
    }
    t.test(title, async (t) => {
      const dir = await mkdtemp(join(tmpdir(), 'weir-log-conformance-'));
      const opened: LogBackend[] = [];
      t.teardown(async () => {
        for (const backend of opened) await backend.close();
        await rm(dir, { recursive: true, force: true });
      });
      const context: CaseContext = {
        t,
        dir,
        open: async () => {
          const backend = await makeBackend(dir);
          opened.push(backend);
          return backend;
        },
        unique: (base) => `${base}-${runId}-${++uniqueCounter}`,
        pollPatienceMs: options.pollPatienceMs ?? 10_000,
      };
      await CASES[id](context);
    });
  }
}

const CASES: Record<LogConformanceCase, (c: CaseContext) => Promise<void>> = {
  async topics({ t, open, unique }) {
    const log = await open();
    const a = unique('topics-a');
    const b = unique('topics-b');
    t.equal(await log.describeTopic(a), undefined, 'a missing topic is undefined');
    await log.createTopic(a, 3);
    await log.createTopic(b, 1);
    t.match(await log.describeTopic(a), { name: a, partitions: 3 });
    t.match(await log.describeTopic(b), { name: b, partitions: 1 });
    await log.createTopic(a, 3);
    t.match(await log.describeTopic(a), { name: a, partitions: 3 }, 'creating again with the same count is a no-op');
    await t.rejects(log.createTopic(a, 4), TopicPartitionCountMismatchError, 'a different count is refused');
    const listed = (await log.listTopics()).filter((topic) => topic.name === a || topic.name === b);
    t.same(
      listed.map((topic) => [topic.name, topic.partitions]).sort(),
      [
        [a, 3],
        [b, 1],
      ].sort(),
      'listTopics lists both with their partition counts',
    );
  },

  async 'topic-config'({ t, open, unique }) {
    const log = await open();
    const compacted = unique('changelog');
    const plain = unique('plain');
    await log.createTopic(compacted, 2, { compact: true });
    await log.createTopic(plain, 2);
    t.equal((await log.describeTopic(compacted))?.config.compact, true, 'compact is described');
    t.not((await log.describeTopic(plain))?.config.compact, true, 'a plain topic is not compacted');
  },

  async 'append-read'({ t, open, unique }) {
    const { log, topic, producer } = await openTopicCase({ open, unique }, 'append-read', 2);
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
          { key: 'empty', value: null },
        ],
      },
      { topic, partition: 1, key: null, value: bytes('no key'), timestamp: 1_700_000_000_002 },
      { topic, partition: 1, key: bytes('tombstone'), value: null, timestamp: 1_700_000_000_003 },
      { topic, partition: 0, key: bytes(''), value: bytes(''), timestamp: 1_700_000_000_004 },
    ];
    const before = Date.now();
    const results = await producer.append(records);
    const untimed = await producer.append([{ topic, partition: 1, key: bytes('now'), value: bytes('x') }]);
    const after = Date.now();
    t.same(
      results.map((r) => [r.topic, r.partition]),
      records.map((r) => [topic, r.partition]),
      'results are in input order',
    );
    const reader = await log.reader();
    const p0 = await reader.read({ topic, partition: 0 }, 0, 100);
    const p1 = await reader.read({ topic, partition: 1 }, 0, 100);
    t.same(p0.map(view), [records[0]!, records[1]!, records[4]!].map(expected), 'partition 0 reads back intact');
    t.same(p1.slice(0, 2).map(view), [records[2]!, records[3]!].map(expected), 'partition 1 reads back intact');
    t.same(
      p0.map((r) => r.offset),
      results.filter((r) => r.partition === 0).map((r) => r.offset),
      'read offsets are the appended ones',
    );
    const stamped = p1[2];
    t.equal(stamped?.offset, untimed[0]?.offset);
    t.ok(stamped !== undefined && stamped.timestamp >= before - 1000 && stamped.timestamp <= after + 1000, 'no timestamp ⇒ append time');
    for (const record of [...p0, ...p1]) {
      t.equal(record.topic, topic);
    }
    await reader.close();
    await producer.close();
  },

  async 'offsets-per-partition'({ t, open, unique }) {
    const { topic, producer } = await openTopicCase({ open, unique }, 'offsets', 3);
    const appended: { partition: number; offset: number }[] = [];
    for (let round = 0; round < 4; round++) {
      const batch = Array.from({ length: 30 }, (_, i) => ({
        topic,
        partition: (i * 7 + round) % 3,
        key: bytes(`k${round}-${i}`),
        value: bytes(`v${round}-${i}`),
      }));
      appended.push(...(await producer.append(batch)));
    }
    for (let partition = 0; partition < 3; partition++) {
      const offsets = appended.filter((r) => r.partition === partition).map((r) => r.offset);
      t.ok(
        offsets.every((offset, i) => i === 0 || offset > offsets[i - 1]!),
        `partition ${partition}: offsets strictly increase in append order`,
      );
      t.equal(new Set(offsets).size, offsets.length, `partition ${partition}: offsets are unique`);
    }
    await producer.close();
  },

  async watermarks({ t, open, unique }) {
    const log = await open();
    const topic = unique('watermarks');
    await log.createTopic(topic, 2);
    t.same(await log.watermarks({ topic, partition: 0 }), { low: 0, high: 0 }, 'empty partition: 0/0');
    const producer = await log.producer();
    const results = await producer.append(
      Array.from({ length: 25 }, (_, i) => ({ topic, partition: 0, key: null, value: bytes(`v${i}`) })),
    );
    const marks = await log.watermarks({ topic, partition: 0 });
    t.equal(marks.high, results[results.length - 1]!.offset + 1, 'high = last offset + 1');
    t.ok(marks.low <= results[0]!.offset, 'low ≤ first offset');
    t.same(await log.watermarks({ topic, partition: 1 }), { low: 0, high: 0 }, 'other partition untouched');
    await producer.close();
  },

  async 'read-batches'({ t, open, unique }) {
    const { log, topic, producer } = await openTopicCase({ open, unique }, 'batches', 1);
    const total = 2_500;
    for (let start = 0; start < total; start += 1_000) {
      const count = Math.min(1_000, total - start);
      await producer.append(
        Array.from({ length: count }, (_, i) => ({ topic, partition: 0, key: bytes(`k${start + i}`), value: bytes(`v${start + i}`) })),
      );
    }
    const reader = await log.reader();
    const tp = { topic, partition: 0 };
    const values: string[] = [];
    const offsets: number[] = [];
    let from = 0;
    for (;;) {
      const batch = await reader.read(tp, from, 1_000);
      if (batch.length === 0) break;
      t.ok(batch.length <= 1_000, 'a batch respects maxRecords');
      for (const record of batch) {
        values.push(text(record.value)!);
        offsets.push(record.offset);
      }
      from = batch[batch.length - 1]!.offset + 1;
    }
    t.equal(values.length, total, 'every record read once');
    t.ok(values.every((value, i) => value === `v${i}`), 'in append order');
    t.ok(offsets.every((offset, i) => i === 0 || offset > offsets[i - 1]!), 'offsets increase');
    const middle = offsets[1_234]!;
    const slice = await reader.read(tp, middle, 10);
    t.same(slice.map((r) => text(r.value)), Array.from({ length: 10 }, (_, i) => `v${1_234 + i}`), 'reading from a middle offset');
    t.equal(slice[0]?.offset, middle);
    const { high } = await log.watermarks(tp);
    t.same(await reader.read(tp, high, 10), [], 'reading at the high watermark gives nothing');
    await reader.close();
    await producer.close();
  },

  async partitioner({ t, open, unique }) {
    const log = await open();
    // Kafka's UtilsTest.testMurmur2 vectors: murmur2(key) as Java ints.
    const vectors: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const partitions of [1, 3, 8, 12]) {
      for (const [key, hash] of vectors) {
        t.equal(log.partitionFor(bytes(key), partitions), (hash & 0x7fffffff) % partitions, `"${key}" over ${partitions}`);
      }
    }
    const topic = unique('placement');
    await log.createTopic(topic, 8);
    const producer = await log.producer();
    const keys = Array.from({ length: 200 }, (_, i) => `customer-${i}`);
    const results = await producer.append(keys.map((key) => ({ topic, key: bytes(key), value: bytes(key) })));
    t.ok(
      results.every((result, i) => result.partition === log.partitionFor(bytes(keys[i]!), 8)),
      'keyed records without a partition land on partitionFor(key)',
    );
    const nullKeyed = await producer.append(Array.from({ length: 16 }, () => ({ topic, key: null, value: bytes('x') })));
    t.ok(nullKeyed.every((r) => Number.isInteger(r.partition) && r.partition >= 0 && r.partition < 8), 'null keys land in range');
    const explicit = await producer.append([{ topic, partition: 5, key: bytes('foobar'), value: null }]);
    t.equal(explicit[0]?.partition, 5, 'an explicit partition wins over the key');
    await producer.close();
  },

  async 'committed-offsets'({ t, open, unique }) {
    const log = await open();
    const topic = unique('committed');
    const group = unique('group');
    await log.createTopic(topic, 2);
    const tps = [
      { topic, partition: 0 },
      { topic, partition: 1 },
    ];
    const none = await log.committedOffsets(group, tps);
    t.equal(none.get(tpKey(tps[0]!)), undefined, 'never committed ⇒ undefined');
    t.equal(none.get(tpKey(tps[1]!)), undefined);
    const producer = await log.producer();
    await producer.append(Array.from({ length: 10 }, (_, i) => ({ topic, partition: 0, key: null, value: bytes(`${i}`) })));
    const consumer = await log.consumer(group);
    await consumer.subscribe([topic], quietListener());
    await consumer.commit([{ topic, partition: 0, offset: 7 }]);
    const fromConsumer = await consumer.committed(tps);
    t.equal(fromConsumer.get(tpKey(tps[0]!)), 7, 'the consumer reads its commit back');
    t.equal(fromConsumer.get(tpKey(tps[1]!)), undefined, 'an uncommitted partition stays undefined');
    const fromBackend = await log.committedOffsets(group, tps);
    t.equal(fromBackend.get(tpKey(tps[0]!)), 7, 'the backend reads it without joining');
    await consumer.commit([{ topic, partition: 0, offset: 9 }]);
    // Read through another client: on a loaded machine the mock cluster's OffsetFetch was
    // once seen to answer with the previous commit; allow it a few seconds to catch up.
    let replaced = (await log.committedOffsets(group, tps)).get(tpKey(tps[0]!));
    for (let attempt = 0; replaced !== 9 && attempt < 20; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      replaced = (await log.committedOffsets(group, tps)).get(tpKey(tps[0]!));
    }
    t.equal(replaced, 9, 'a later commit replaces it');
    t.equal(
      (await log.committedOffsets(unique('other-group'), tps)).get(tpKey(tps[0]!)),
      undefined,
      'groups are separate',
    );
    await consumer.close();
    await producer.close();
  },

  async 'consumer-poll'({ t, open, unique, pollPatienceMs }) {
    const log = await open();
    const topic = unique('poll');
    const group = unique('group');
    await log.createTopic(topic, 3);
    const producer = await log.producer();
    const appended = await producer.append(
      Array.from({ length: 300 }, (_, i) => ({ topic, partition: i % 3, key: bytes(`k${i}`), value: bytes(`v${i}`) })),
    );
    const consumer = await log.consumer(group);
    const events = recordingListener();
    await consumer.subscribe([topic], events.listener);
    const records = await pollUntil(consumer, 300, pollPatienceMs, 50);
    t.same(
      events.assigned.flat().map(tpKey).sort(),
      [0, 1, 2].map((partition) => tpKey({ topic, partition })).sort(),
      'every partition is assigned',
    );
    t.same(consumer.assignment().map(tpKey).sort(), [0, 1, 2].map((partition) => tpKey({ topic, partition })).sort());
    t.equal(records.length, 300, 'every record is polled');
    t.same(
      records.map((r) => `${r.partition}:${r.offset}`).sort(),
      appended.map((r) => `${r.partition}:${r.offset}`).sort(),
      'exactly once each',
    );
    for (let partition = 0; partition < 3; partition++) {
      const offsets = records.filter((r) => r.partition === partition).map((r) => r.offset);
      t.ok(offsets.every((o, i) => i === 0 || o > offsets[i - 1]!), `partition ${partition} in offset order`);
    }
    t.same(await consumer.poll(100, 200), [], 'nothing more: an empty poll after the timeout');
    await consumer.close();
    t.equal(events.revoked.flat().length, 3, 'close revokes the assignment');
    await producer.close();
  },

  async 'consumer-poll-waits'({ t, open, unique, pollPatienceMs }) {
    const log = await open();
    const topic = unique('wait');
    const group = unique('group');
    await log.createTopic(topic, 1);
    const consumer = await log.consumer(group);
    await consumer.subscribe([topic], quietListener());
    const producer = await log.producer();
    // Let the member settle, then append while a poll is waiting.
    await consumer.poll(10, 100);
    const polled = consumer.poll(10, pollPatienceMs);
    setTimeout(() => {
      void producer.append([{ topic, partition: 0, key: bytes('late'), value: bytes('arrival') }]);
    }, 50);
    const records = await polled;
    t.same(records.map((r) => text(r.value)), ['arrival'], 'a waiting poll returns a record appended meanwhile');
    await consumer.close();
    await producer.close();
  },

  async 'consumer-pause-resume'({ t, open, unique, pollPatienceMs }) {
    const log = await open();
    const topic = unique('pause');
    const group = unique('group');
    await log.createTopic(topic, 2);
    const producer = await log.producer();
    await producer.append(
      Array.from({ length: 40 }, (_, i) => ({ topic, partition: i % 2, key: null, value: bytes(`v${i}`) })),
    );
    const consumer = await log.consumer(group);
    await consumer.subscribe([topic], quietListener());
    const p0 = { topic, partition: 0 };
    consumer.pause([p0]);
    const whilePaused = await pollUntil(consumer, 20, pollPatienceMs, 10);
    t.equal(whilePaused.length, 20, 'the unpaused partition is read');
    t.ok(whilePaused.every((r) => r.partition === 1), 'nothing from the paused partition');
    t.same(await consumer.poll(10, 300), [], 'paused and drained: nothing');
    consumer.resume([p0]);
    const afterResume = await pollUntil(consumer, 20, pollPatienceMs, 10);
    t.equal(afterResume.length, 20, 'resume delivers the paused partition');
    t.ok(afterResume.every((r) => r.partition === 0));
    t.same(
      afterResume.map((r) => text(r.value)),
      Array.from({ length: 20 }, (_, i) => `v${i * 2}`),
      'from where it was, in order',
    );
    await consumer.close();
    await producer.close();
  },

  async 'consumer-seek'({ t, open, unique, pollPatienceMs }) {
    const log = await open();
    const topic = unique('seek');
    const group = unique('group');
    await log.createTopic(topic, 1);
    const producer = await log.producer();
    const appended = await producer.append(
      Array.from({ length: 30 }, (_, i) => ({ topic, partition: 0, key: null, value: bytes(`v${i}`) })),
    );
    const consumer = await log.consumer(group);
    await consumer.subscribe([topic], quietListener());
    const first = await pollUntil(consumer, 30, pollPatienceMs, 100);
    t.equal(first.length, 30);
    consumer.seek({ topic, partition: 0 }, appended[10]!.offset);
    const again = await pollUntil(consumer, 20, pollPatienceMs, 100);
    t.same(
      again.map((r) => text(r.value)),
      Array.from({ length: 20 }, (_, i) => `v${10 + i}`),
      'seek back re-reads from that offset',
    );
    consumer.seek({ topic, partition: 0 }, appended[25]!.offset);
    const later = await pollUntil(consumer, 5, pollPatienceMs, 100);
    t.same(later.map((r) => text(r.value)), ['v25', 'v26', 'v27', 'v28', 'v29'], 'seek again');
    // A seek while a poll waits at the end: that poll may return what it read after the seek
    // or nothing, and reading goes on from the sought offset either way, nothing skipped.
    const waiting = consumer.poll(100, 2_000);
    // One turn of the event loop: the poll is under way (waiting for records) when the seek comes.
    await new Promise((resolve) => setImmediate(resolve));
    consumer.seek({ topic, partition: 0 }, appended[12]!.offset);
    const returned = await waiting;
    const rest = await pollUntil(consumer, 18 - returned.length, pollPatienceMs, 100);
    t.same(
      [...returned, ...rest].map((r) => text(r.value)),
      Array.from({ length: 18 }, (_, i) => `v${12 + i}`),
      'a seek during a waiting poll: reading goes on from the sought offset',
    );
    await consumer.close();
    await producer.close();
  },

  async 'consumer-resume-from-committed'({ t, open, unique, pollPatienceMs }) {
    const topic = unique('resume');
    const group = unique('group');
    let appended: { offset: number }[];
    {
      const log = await open();
      await log.createTopic(topic, 1);
      const producer = await log.producer();
      appended = await producer.append(
        Array.from({ length: 20 }, (_, i) => ({ topic, partition: 0, key: null, value: bytes(`v${i}`) })),
      );
      const consumer = await log.consumer(group);
      await consumer.subscribe([topic], quietListener());
      const first = await pollUntil(consumer, 20, pollPatienceMs, 100);
      t.equal(first.length, 20);
      await consumer.commit([{ topic, partition: 0, offset: appended[12]!.offset }]);
      await consumer.close();
      await producer.close();
      await log.close();
    }
    const log = await open();
    const consumer = await log.consumer(group);
    await consumer.subscribe([topic], quietListener());
    const resumed = await pollUntil(consumer, 8, pollPatienceMs, 100);
    t.same(
      resumed.map((r) => text(r.value)),
      Array.from({ length: 8 }, (_, i) => `v${12 + i}`),
      'a new member after reopen starts at the committed offset',
    );
    await consumer.close();
  },

  async 'append-and-commit'({ t, open, unique }) {
    const { log, input, output, group, producer } = await openCommitCase({ open, unique }, 2);
    const results = await producer.appendAndCommit(
      [
        { topic: output, partition: 0, key: bytes('a'), value: bytes('1') },
        { topic: output, partition: 1, key: bytes('b'), value: bytes('2') },
      ],
      group,
      [
        { topic: input, partition: 0, offset: 5 },
        { topic: input, partition: 1, offset: 3 },
      ],
    );
    t.same(results.map((r) => [r.topic, r.partition]), [
      [output, 0],
      [output, 1],
    ]);
    const committed = await log.committedOffsets(group, [
      { topic: input, partition: 0 },
      { topic: input, partition: 1 },
    ]);
    t.equal(committed.get(tpKey({ topic: input, partition: 0 })), 5, 'offsets committed');
    t.equal(committed.get(tpKey({ topic: input, partition: 1 })), 3);
    const reader = await log.reader();
    const read = await reader.read({ topic: output, partition: 0 }, 0, 10);
    t.same(read.map((r) => text(r.value)), ['1'], 'records visible');
    await reader.close();
    await producer.close();
  },

  async 'append-and-commit-atomic'({ t, open, unique }) {
    const { log, input, output, group, producer } = await openCommitCase({ open, unique }, 1);
    const inputTp = { topic: input, partition: 0 };
    await t.rejects(
      producer.appendAndCommit(
        [
          { topic: output, partition: 0, key: bytes('a'), value: bytes('1') },
          { topic: output, partition: 7, key: bytes('b'), value: bytes('2') },
        ],
        group,
        [{ ...inputTp, offset: 4 }],
      ),
      PartitionOutOfRangeError,
      'a bad record fails the whole unit',
    );
    t.equal((await log.watermarks({ topic: output, partition: 0 })).high, 0, 'no record became visible');
    t.equal((await log.committedOffsets(group, [inputTp])).get(tpKey(inputTp)), undefined, 'no offset was committed');
    await t.rejects(
      producer.appendAndCommit([{ topic: output, partition: 1, key: null, value: bytes('x') }], group, [
        { topic: unique('missing'), partition: 0, offset: 1 },
      ]),
      TopicNotFoundError,
      'a bad offset fails the whole unit',
    );
    t.equal((await log.watermarks({ topic: output, partition: 1 })).high, 0, 'no record became visible');
    await producer.close();
  },

  async errors({ t, open, unique }) {
    const log = await open();
    const missing = unique('missing');
    const topic = unique('errors');
    await log.createTopic(topic, 2);
    const producer = await log.producer();
    const reader = await log.reader();
    const missingAppend = await rejection(producer.append([{ topic: missing, key: null, value: bytes('x') }]));
    t.type(missingAppend, TopicNotFoundError, 'append to a missing topic');
    t.match(missingAppend, { topic: missing });
    t.match(String((missingAppend as Error).message), missing, 'the message names the topic');
    t.type(await rejection(reader.read({ topic: missing, partition: 0 }, 0, 10)), TopicNotFoundError, 'read of a missing topic');
    t.type(await rejection(log.watermarks({ topic: missing, partition: 0 })), TopicNotFoundError, 'watermarks of a missing topic');
    const consumer = await log.consumer(unique('group'));
    t.type(await rejection(consumer.subscribe([missing], quietListener())), TopicNotFoundError, 'subscribe to a missing topic');
    await consumer.close();

    const outOfRange = await rejection(producer.append([{ topic, partition: 2, key: null, value: bytes('x') }]));
    t.type(outOfRange, PartitionOutOfRangeError, 'append to partition 2 of 2');
    t.match(outOfRange, { topic, partition: 2, partitions: 2 }, 'names topic, partition and count');
    t.type(await rejection(reader.read({ topic, partition: 5 }, 0, 10)), PartitionOutOfRangeError, 'read out of range');
    t.type(await rejection(log.watermarks({ topic, partition: -1 })), PartitionOutOfRangeError, 'negative partition');
    await reader.close();
    await producer.close();
  },

  async 'durable-after-reopen'({ t, open, unique }) {
    const topic = unique('durable');
    const group = unique('group');
    let appended: { partition: number; offset: number }[];
    {
      const log = await open();
      await log.createTopic(topic, 4);
      const producer = await log.producer();
      appended = await producer.append(
        Array.from({ length: 100 }, (_, i) => ({ topic, key: bytes(`k${i}`), value: bytes(`v${i}`) })),
      );
      await producer.appendAndCommit([], group, [{ topic, partition: 3, offset: 2 }]);
      await producer.close();
      await log.close();
    }
    const log = await open();
    t.match(await log.describeTopic(topic), { name: topic, partitions: 4 }, 'the topic survives');
    const reader = await log.reader();
    const values = new Map<string, string>();
    for (let partition = 0; partition < 4; partition++) {
      const high = (await log.watermarks({ topic, partition })).high;
      const expectedHigh = Math.max(-1, ...appended.filter((r) => r.partition === partition).map((r) => r.offset)) + 1;
      t.equal(high, expectedHigh, `partition ${partition} high watermark survives`);
      for (const record of await reader.read({ topic, partition }, 0, 1_000)) {
        values.set(`${record.partition}:${record.offset}`, text(record.value)!);
      }
    }
    t.equal(values.size, 100, 'every record survives');
    t.ok(
      appended.every((r, i) => values.get(`${r.partition}:${r.offset}`) === `v${i}`),
      'each at its offset, intact',
    );
    t.equal((await log.committedOffsets(group, [{ topic, partition: 3 }])).get(tpKey({ topic, partition: 3 })), 2, 'offsets survive');
    await reader.close();
  },

  async 'append-batches'({ t, open, unique }) {
    const { log, topic, producer } = await openTopicCase({ open, unique }, 'append-batches', 2);
    const first = batchOf('a', 5, 1_700_000_000_000);
    const second = batchOf('b', 3, 1_700_000_000_100);
    const third = batchOf('c', 4, 1_700_000_000_200);
    const results = await producer.appendBatches([
      { topic, partition: 0, batch: first },
      { topic, partition: 1, batch: second },
      { topic, partition: 0, batch: third },
    ]);
    t.same(
      results.map((r) => [r.topic, r.partition]),
      [
        [topic, 0],
        [topic, 1],
        [topic, 0],
      ],
      'results are in input order',
    );
    t.same(
      results.map((r) => r.lastOffset - r.baseOffset + 1),
      [5, 3, 4],
      'each batch takes one offset per record',
    );
    t.ok(results[2]!.baseOffset > results[0]!.lastOffset, 'a later batch of a partition comes after');
    const reader = await log.reader();
    const p0 = await reader.read({ topic, partition: 0 }, 0, 100);
    t.same(
      p0.map((r) => text(r.value)),
      [...['a0', 'a1', 'a2', 'a3', 'a4'], ...['c0', 'c1', 'c2', 'c3']],
      'partition 0 reads both batches in order',
    );
    t.same(
      p0.map((r) => r.offset),
      [...range(results[0]!.baseOffset, 5), ...range(results[2]!.baseOffset, 4)],
      'at the offsets the results name',
    );
    t.same(p0.map(view).slice(0, 2), [0, 1].map((i) => expected(batchRecord('a', i, 1_700_000_000_000))), 'keys, values, headers and timestamps intact');
    const p1 = await reader.read({ topic, partition: 1 }, 0, 100);
    t.same(p1.map((r) => text(r.value)), ['b0', 'b1', 'b2']);
    t.same(p1.map((r) => r.offset), range(results[1]!.baseOffset, 3));
    t.equal((await log.watermarks({ topic, partition: 0 })).high, results[2]!.lastOffset + 1, 'the high watermark follows');
    await reader.close();
    await producer.close();
  },

  async 'append-batches-and-commit'({ t, open, unique }) {
    const { log, input, output, group, producer } = await openCommitCase({ open, unique }, 2);
    const inputTps = [
      { topic: input, partition: 0 },
      { topic: input, partition: 1 },
    ];
    const results = await producer.appendBatchesAndCommit(
      [
        { topic: output, partition: 1, batch: batchOf('x', 2, 1_700_000_000_000) },
        { topic: output, partition: 0, batch: batchOf('y', 3, 1_700_000_000_000) },
      ],
      group,
      [
        { ...inputTps[0]!, offset: 5 },
        { ...inputTps[1]!, offset: 3 },
      ],
    );
    t.same(results.map((r) => [r.partition, r.lastOffset - r.baseOffset + 1]), [
      [1, 2],
      [0, 3],
    ]);
    const committed = await log.committedOffsets(group, inputTps);
    t.equal(committed.get(tpKey(inputTps[0]!)), 5, 'offsets committed');
    t.equal(committed.get(tpKey(inputTps[1]!)), 3);
    const reader = await log.reader();
    t.same((await reader.read({ topic: output, partition: 0 }, 0, 10)).map((r) => text(r.value)), ['y0', 'y1', 'y2'], 'records visible');
    const highBefore = (await log.watermarks({ topic: output, partition: 0 })).high;
    await t.rejects(
      producer.appendBatchesAndCommit(
        [
          { topic: output, partition: 0, batch: batchOf('z', 2, 1_700_000_000_000) },
          { topic: output, partition: 7, batch: batchOf('w', 2, 1_700_000_000_000) },
        ],
        group,
        [{ ...inputTps[0]!, offset: 9 }],
      ),
      PartitionOutOfRangeError,
      'a bad batch fails the whole unit',
    );
    t.equal((await log.watermarks({ topic: output, partition: 0 })).high, highBefore, 'no record became visible');
    t.equal((await log.committedOffsets(group, inputTps)).get(tpKey(inputTps[0]!)), 5, 'no offset was committed');
    await reader.close();
    await producer.close();
  },

  async 'poll-batches'({ t, open, unique, pollPatienceMs }) {
    const { log, topic, producer } = await openTopicCase({ open, unique }, 'poll-batches', 3);
    for (let round = 0; round < 3; round++) {
      await producer.append(
        Array.from({ length: 100 }, (_, i) => ({
          topic,
          partition: i % 3,
          key: bytes(`k${round}-${i}`),
          value: bytes(`v${round}-${i}`),
          headers: i % 10 === 0 ? [{ key: 'h', value: bytes(`${i}`) }] : [],
          timestamp: 1_700_000_000_000 + round * 100 + i,
        })),
      );
    }
    const byRecords = await log.consumer(unique('group'));
    await byRecords.subscribe([topic], quietListener());
    const polled = await pollUntil(byRecords, 300, pollPatienceMs, 70);
    const byBatches = await log.consumer(unique('group'));
    await byBatches.subscribe([topic], quietListener());
    const sets = await pollBatchesUntil(byBatches, 300, pollPatienceMs, 70);
    const decoded = sets.flatMap((set) => decodeBatchSet(set.buffer, set.topic, set.partition));
    t.ok(sets.every((set) => set.topic === topic && set.count > 0), 'one set per partition with data, none empty');
    t.ok(
      sets.every((set) => {
        const records = decodeBatchSet(set.buffer, set.topic, set.partition);
        return records.length === set.count && records[records.length - 1]!.offset === set.lastOffset;
      }),
      'each set holds `count` records up to `lastOffset`',
    );
    t.equal(decoded.length, 300, 'every record once');
    for (let partition = 0; partition < 3; partition++) {
      t.same(
        decoded.filter((r) => r.partition === partition).map(view),
        polled.filter((r) => r.partition === partition).map(view),
        `partition ${partition}: the sets decode to the records poll gives`,
      );
      t.same(
        decoded.filter((r) => r.partition === partition).map((r) => r.offset),
        polled.filter((r) => r.partition === partition).map((r) => r.offset),
        `partition ${partition}: at the same offsets`,
      );
    }
    t.same(await byBatches.pollBatches(100, 200), [], 'nothing more: an empty poll after the timeout');
    await byRecords.close();
    await byBatches.close();
    await producer.close();
  },

  async 'read-inside-batch'({ t, open, unique, pollPatienceMs }) {
    const { log, topic, producer } = await openTopicCase({ open, unique }, 'inside', 1);
    const [result] = await producer.appendBatches([{ topic, partition: 0, batch: batchOf('r', 10, 1_700_000_000_000) }]);
    const base = result!.baseOffset;
    const tp = { topic, partition: 0 };
    const reader = await log.reader();
    const read = await reader.read(tp, base + 3, 4);
    t.same(read.map((r) => text(r.value)), ['r3', 'r4', 'r5', 'r6'], 'read from inside a batch starts at that offset and keeps to maxRecords');
    t.same(read.map((r) => r.offset), range(base + 3, 4));
    const encoded = await reader.readEncoded(tp, base + 3, 4);
    const fromSet = decodeBatchSet(encoded.buffer, topic, 0);
    t.ok(encoded.count >= 4 && encoded.count === fromSet.length, 'readEncoded counts the records from that offset');
    t.same(fromSet.slice(0, 4).map(view), read.map(view), 'readEncoded decodes to the same records');
    t.equal(fromSet[0]?.offset, base + 3, 'skipping the records before the offset');
    const consumer = await log.consumer(unique('group'));
    await consumer.subscribe([topic], quietListener());
    // Seek needs the assignment, which a backend may complete asynchronously: poll first.
    t.equal((await pollUntil(consumer, 10, pollPatienceMs, 100)).length, 10);
    consumer.seek(tp, base + 5);
    const polled = await pollUntil(consumer, 2, pollPatienceMs, 2);
    t.same(polled.map((r) => text(r.value)), ['r5', 'r6'], 'poll after a seek inside a batch');
    consumer.seek(tp, base + 8);
    const sets = await pollBatchesUntil(consumer, 2, pollPatienceMs, 100);
    t.same(
      sets.flatMap((set) => decodeBatchSet(set.buffer, set.topic, set.partition)).map((r) => text(r.value)),
      ['r8', 'r9'],
      'pollBatches after a seek inside a batch',
    );
    await consumer.close();
    await reader.close();
    await producer.close();
  },
};

/** A record batch of `count` records `${prefix}${i}`, built as a worker builds one. */
/** The start of a case on one topic: the topic (`name`, unique to the case, of `partitions`) and a producer. */
async function openTopicCase({ open, unique }: Pick<CaseContext, 'open' | 'unique'>, name: string, partitions: number) {
  const log = await open();
  const topic = unique(name);
  await log.createTopic(topic, partitions);
  const producer = await log.producer();
  return { log, topic, producer };
}

/**
 * The start of the append-and-commit cases: an input topic of `inputPartitions`, an
 * output topic of 2, a consumer group (all unique to the case) and a producer.
 */
async function openCommitCase({ open, unique }: Pick<CaseContext, 'open' | 'unique'>, inputPartitions: number) {
  const log = await open();
  const input = unique('input');
  const output = unique('output');
  const group = unique('group');
  await log.createTopic(input, inputPartitions);
  await log.createTopic(output, 2);
  const producer = await log.producer();
  return { log, input, output, group, producer };
}

function batchOf(prefix: string, count: number, timestamp: number): Uint8Array {
  const builder = new RecordBatchBuilder();
  for (let i = 0; i < count; i++) {
    const record = batchRecord(prefix, i, timestamp);
    builder.add(record.timestamp, record.key, record.value, record.headers);
  }
  return builder.finish();
}

/** Record `i` of {@link batchOf}'s batch. */
function batchRecord(prefix: string, i: number, timestamp: number): AppendRecord & { readonly timestamp: number } {
  return {
    topic: '',
    key: bytes(`${prefix}-key-${i}`),
    value: bytes(`${prefix}${i}`),
    headers: i === 0 ? [{ key: 'first', value: bytes('yes') }] : [],
    timestamp: timestamp + i,
  };
}

function range(from: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => from + i);
}

/** Polls batch sets until they hold `count` records or `patienceMs` passed. */
async function pollBatchesUntil(
  consumer: GroupConsumer,
  count: number,
  patienceMs: number,
  maxPerPoll: number,
): Promise<PartitionBatchSet[]> {
  const sets: PartitionBatchSet[] = [];
  let records = 0;
  const deadline = Date.now() + patienceMs;
  while (records < count && Date.now() < deadline) {
    for (const set of await consumer.pollBatches(Math.min(maxPerPoll, count - records), 500)) {
      sets.push(set);
      records += set.count;
    }
  }
  return sets;
}

/** Polls until `count` records arrived or `patienceMs` passed. */
async function pollUntil(
  consumer: { poll(max: number, timeoutMs: number): Promise<LogRecord[]> },
  count: number,
  patienceMs: number,
  maxPerPoll: number,
): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  const deadline = Date.now() + patienceMs;
  while (records.length < count && Date.now() < deadline) {
    const batch = await consumer.poll(Math.min(maxPerPoll, count - records.length), 500);
    records.push(...batch);
  }
  return records;
}

function recordingListener(): {
  listener: RebalanceListener;
  assigned: TopicPartition[][];
  revoked: TopicPartition[][];
} {
  const assigned: TopicPartition[][] = [];
  const revoked: TopicPartition[][] = [];
  return {
    assigned,
    revoked,
    listener: {
      onAssign: async (partitions) => void assigned.push([...partitions]),
      onRevoke: async (partitions) => void revoked.push([...partitions]),
    },
  };
}

function quietListener(): RebalanceListener {
  return recordingListener().listener;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return new Error('expected a rejection, but it resolved');
}

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function text(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/** The comparable content of a record: text of key, value and headers, and the timestamp. */
function view(record: LogRecord | AppendRecord): unknown {
  return {
    key: text(record.key),
    value: text(record.value),
    headers: (record.headers ?? []).map((h) => [h.key, text(h.value)]),
    timestamp: record.timestamp,
  };
}

const expected = view;
