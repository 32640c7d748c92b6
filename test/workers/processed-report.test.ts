/**
 * A worker reports each `records` message with one `processed` message (docs/data-plane.md,
 * rules 2 and 4): every set of the message counted, and under at-least-once the outputs of
 * all of them, one batch per destination partition, each holding exactly its records. The
 * output builders are kept between messages, so a second message's batches must not carry
 * the first one's records.
 */
import t, { type Test } from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JobWorker } from '../../workers/job-worker.js';
import { encodeBatchSet, forEachRecord } from '../../shared/protocol/record-batch.js';
import type { DataMessage, EncodedBatch, RoutedBatchSet } from '../../shared/protocol/worker-protocol.js';
import { partitionForKey } from '../../shared/log/murmur2-partitioner.js';
import { testWorkerInit } from './fixtures/worker-init.js';
import { COUNT_PIPELINE } from '../runtime/job-fixture.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const OUTPUT_PARTITIONS = 4;

type Processed = Extract<DataMessage, { type: 'processed' }>;

function inputSet(partition: number, keys: readonly string[]): RoutedBatchSet {
  const records = keys.map((key, n) => ({
    offset: n,
    timestamp: 1_700_000_000_000 + n,
    key: encoder.encode(JSON.stringify(key)),
    value: encoder.encode(JSON.stringify({ n })),
    headers: [],
  }));
  return { topic: 'events', partition, count: records.length, buffer: encodeBatchSet(records) };
}

/** Bytes of the sets as posted (taken before they are handed over). */
function bytesOf(sets: readonly RoutedBatchSet[]): number {
  return sets.reduce((n, set) => n + set.buffer.byteLength, 0);
}

/** Each output batch's records as `key=count`, checking each lies on its key's partition. */
function outputsOf(t: Test, batches: readonly EncodedBatch[]): string[] {
  const seen: string[] = [];
  for (const batch of batches) {
    t.equal(batch.topic, 'counts');
    const records: string[] = [];
    forEachRecord(new Uint8Array(batch.buffer), 0, 0, (record) => {
      t.equal(partitionForKey(record.key!, OUTPUT_PARTITIONS), batch.partition, 'an output lies on its key’s partition');
      records.push(`${JSON.parse(decoder.decode(record.key!))}=${decoder.decode(record.value!)}`);
    });
    t.equal(records.length, batch.count, 'a batch holds exactly the records it counts');
    seen.push(...records);
  }
  return seen.sort();
}

t.test('one processed message per records message, with every set’s outputs in one batch per destination partition', async (t) => {
  const dir = t.testdir();
  const pipelinePath = join(dir, 'pipeline.mjs');
  await writeFile(pipelinePath, COUNT_PIPELINE);
  const init = testWorkerInit(dir, pipelinePath, { outputTopics: ['counts'], topicPartitions: { counts: OUTPUT_PARTITIONS } });
  const processed: Processed[] = [];
  let notify: () => void = () => undefined;
  const worker = await JobWorker.start(init, (message) => {
    if (message.type === 'processed') processed.push(message);
    notify();
  });
  t.teardown(() => worker.close());
  await worker.assign(0);
  await worker.assign(1);
  const until = async (n: number): Promise<void> => {
    while (processed.length < n) await new Promise<void>((resolve) => (notify = resolve));
  };

  const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
  const first = [inputSet(0, keys.slice(0, 25)), inputSet(1, keys.slice(25))];
  const firstBytes = bytesOf(first);
  worker.receive({ type: 'records', sets: first });
  await until(1);
  t.match(processed[0], { type: 'processed', sets: 2, count: 40, bytes: firstBytes });
  const firstOutputs = processed[0]!.outputs;
  t.ok(firstOutputs.length <= OUTPUT_PARTITIONS, 'at most one batch per destination partition for both sets');
  t.same(new Set(firstOutputs.map((b) => b.partition)).size, firstOutputs.length, 'no destination partition twice');
  t.same(outputsOf(t, firstOutputs), keys.map((k) => `${k}=1`).sort());

  // The same keys on the same partitions again: counts of 2, and nothing of the first message repeated.
  const second = [inputSet(0, keys.slice(0, 25)), inputSet(1, keys.slice(25))];
  const secondBytes = bytesOf(second);
  worker.receive({ type: 'records', sets: second });
  await until(2);
  t.match(processed[1], { type: 'processed', sets: 2, count: 40, bytes: secondBytes });
  t.same(outputsOf(t, processed[1]!.outputs), keys.map((k) => `${k}=2`).sort());
});
