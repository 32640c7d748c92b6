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
import type { AppendRecord, LogBackend, LogRecord, RebalanceListener, TopicPartition } from '../../shared/log/log-backend.js';
import { tpKey } from '../../shared/log/log-backend.js';
import {
  PartitionOutOfRangeError,
  TopicNotFoundError,
  TopicPartitionCountMismatchError,
} from '../../shared/errors/log-errors.js';

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
    const log = await open();
    const topic = unique('append-read');
    await log.createTopic(topic, 2);
    const producer = await log.producer();
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
    const log = await open();
    const topic = unique('offsets');
    await log.createTopic(topic, 3);
    const producer = await log.producer();
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
    const log = await open();
    const topic = unique('batches');
    await log.createTopic(topic, 1);
    const producer = await log.producer();
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
    const log = await open();
    const input = unique('input');
    const output = unique('output');
    const group = unique('group');
    await log.createTopic(input, 2);
    await log.createTopic(output, 2);
    const producer = await log.producer();
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
    const log = await open();
    const input = unique('input');
    const output = unique('output');
    const group = unique('group');
    await log.createTopic(input, 1);
    await log.createTopic(output, 2);
    const producer = await log.producer();
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
};

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
