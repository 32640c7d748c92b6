/**
 * The router through its public interface, on a scripted consumer and recording workers:
 * records below a partition's position (already routed, or committed before this member
 * got the partition) are never routed again. A fetch that started before a rebalance can
 * hand them over after it; routing them twice would apply them to state twice.
 */
import t from 'tap';
import { Router } from '../../runtime/router.js';
import { WorkerAssignment } from '../../runtime/worker-assignment.js';
import type { WorkerHandle } from '../../runtime/worker-pool.js';
import type { GroupConsumer, PartitionBatchSet, TopicPartition } from '../../shared/log/log-backend.js';
import { decodeBatchSet, toEncodedRecords } from '../../shared/protocol/record-batch.js';

const TOPIC = 'events';

function setOf(partition: number, from: number, to: number): PartitionBatchSet {
  const records = [];
  for (let offset = from; offset <= to; offset++) {
    records.push({ topic: TOPIC, partition, offset, timestamp: offset, key: null, value: new TextEncoder().encode(String(offset)), headers: [] });
  }
  return { topic: TOPIC, partition, ...toEncodedRecords(records, from) };
}

interface Harness {
  router: Router;
  /** Offsets posted to the workers, in order. */
  routed: number[];
  /** What each poll returns, in order: sets, or a promise of them for a poll still in flight. */
  polls: Array<PartitionBatchSet[] | Promise<PartitionBatchSet[]>>;
  seeks: Array<{ partition: number; offset: number }>;
}

function harness(): Harness {
  const routed: number[] = [];
  const polls: Array<PartitionBatchSet[] | Promise<PartitionBatchSet[]>> = [];
  const seeks: Array<{ partition: number; offset: number }> = [];
  const assigned: TopicPartition[] = [{ topic: TOPIC, partition: 0 }];
  const consumer = {
    pollBatches: async () => polls.shift() ?? [],
    assignment: () => assigned,
    pause: () => undefined,
    resume: () => undefined,
    seek: (tp: TopicPartition, offset: number) => void seeks.push({ partition: tp.partition, offset }),
  } as unknown as GroupConsumer;
  const worker = {
    id: 0,
    queueRouted: (_topic: string, partition: number, count: number, buffer: ArrayBuffer) => {
      const offsets = decodeBatchSet(buffer, TOPIC, partition).map((r) => r.offset);
      if (offsets.length !== count) throw new Error(`posted count ${count} but ${offsets.length} records`);
      routed.push(...offsets);
    },
    flushRouted: () => undefined,
    below: () => true,
  } as unknown as WorkerHandle;
  const assignment = new WorkerAssignment(1);
  assignment.add([0]);
  return { router: new Router(consumer, [worker], assignment), routed, polls, seeks };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

t.test('records fetched again after a rebalance are routed once', async (t) => {
  const h = harness();
  // The partition comes back to this member with offset 100 committed; a fetch from before
  // the rebalance delivers 90–109, the new fetch from the committed offset 100–119.
  h.router.markCommitted({ topic: TOPIC, partition: 0, offset: 100 });
  h.polls.push([setOf(0, 90, 109)], [setOf(0, 100, 119)], [setOf(0, 50, 60)], []);
  t.equal(await h.router.pollAndRoute(1000, 10), 10, 'only 100–109 of the stale fetch');
  t.equal(await h.router.pollAndRoute(1000, 10), 10, 'only 110–119 of the new one');
  t.equal(await h.router.pollAndRoute(1000, 10), 0, 'records below the position are dropped');
  t.same(h.routed, range(100, 119), 'every offset from the committed one, once, in order');
  t.equal(h.router.duplicatesDropped, 10 + 10 + 11);
  t.equal(h.router.position({ topic: TOPIC, partition: 0 }), 120);
});

t.test('a partition forgotten at revocation starts again from what the new owner committed', async (t) => {
  const h = harness();
  // The second poll is the prefetch started before the partition was forgotten; the third
  // starts after it, from the committed offset.
  h.polls.push([setOf(0, 0, 9)], [setOf(0, 7, 16)], [setOf(0, 5, 14)], []);
  t.equal(await h.router.pollAndRoute(1000, 10), 10);
  h.router.forget(0);
  h.router.markCommitted({ topic: TOPIC, partition: 0, offset: 5 });
  t.equal(await h.router.pollAndRoute(1000, 10), 0, 'a fetch started before the partition was forgotten is not routed');
  t.equal(await h.router.pollAndRoute(1000, 10), 10, 'from the committed offset on, all of it');
  t.same(h.routed, [...range(0, 9), ...range(5, 14)]);
});

t.test('with nothing committed, a fetch from before a reset cannot move the position past records read again', async (t) => {
  // A partition taken up again after a refused commit (docs/semantics.md §8.4) has no
  // committed offset and is read again from 0; a prefetch from before the reset delivering
  // 40–49 must neither be routed nor set the position to 50, or 0–39 would be dropped.
  const h = harness();
  h.polls.push([setOf(0, 0, 39)], [setOf(0, 40, 49)], [setOf(0, 0, 49)], []);
  t.equal(await h.router.pollAndRoute(1000, 10), 40);
  h.router.forget(0);
  t.equal(await h.router.pollAndRoute(1000, 10), 0, 'the stale prefetch is dropped');
  t.same(h.seeks, [], 'and not rewound to');
  t.equal(await h.router.pollAndRoute(1000, 10), 50, 'read again from 0: every record routed');
  t.same(h.routed, [...range(0, 39), ...range(0, 49)]);
});

t.test('a poll in flight when its partition is forgotten and returning after it is routed: it read from the new start', async (t) => {
  // The partition was paused, sought back to 0 and forgotten while the prefetch waited for
  // records (the local log's poll waits for appends): what it returns was read after the
  // seek, and dropping it would lose records 0–49 for good.
  const h = harness();
  let answer: (sets: PartitionBatchSet[]) => void = () => undefined;
  h.polls.push([setOf(0, 0, 49)], new Promise<PartitionBatchSet[]>((resolve) => (answer = resolve)), []);
  t.equal(await h.router.pollAndRoute(1000, 10), 50);
  h.router.forget(0);
  answer([setOf(0, 0, 49)]);
  t.equal(await h.router.pollAndRoute(1000, 10), 50, 'every record of the poll that returned after the forget');
  t.same(h.routed, [...range(0, 49), ...range(0, 49)]);
});

t.test('a set held back during recovery is rewound to the first record not yet routed', async (t) => {
  const h = harness();
  h.router.markCommitted({ topic: TOPIC, partition: 0, offset: 100 });
  h.router.pauseForRecovery([{ topic: TOPIC, partition: 0 }]);
  h.polls.push([setOf(0, 95, 104)], []);
  t.equal(await h.router.pollAndRoute(1000, 10), 0);
  t.same(h.seeks, [{ partition: 0, offset: 100 }], 'read again from 100, not from 95');
  t.same(h.routed, []);
});
