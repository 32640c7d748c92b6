/**
 * The latency bench's producer (a worker thread of the bench's child process): every
 * ~5 ms it encodes as many count events as the rate calls for since the start (`{n,
 * amount}` values and `user-N` keys as `npm start` writes them, each record stamped with
 * `Date.now()` when its batch is built) into one record batch per partition (murmur2 of
 * the key, as any producer places keyed records) and posts them to the job's thread,
 * which appends them with `appendBatches`, touching no record: what a live-produce
 * request costs the coordinator (runtime/server/live-produce.ts). Generating and encoding
 * the records here keeps that work off the job's event loop, as a producer in another
 * process would.
 *
 * Messages in: {@link ProducerStart}, then `'stop'`. Out: {@link ProducedBatches} per
 * step, then {@link ProducerStopped}.
 */
import { parentPort } from 'node:worker_threads';
import { RecordBatchBuilder } from '../shared/protocol/record-batch.js';
import { partitionForKey } from '../shared/log/murmur2-partitioner.js';
import { xorshift32 } from '../examples/count/count-events.js';

export interface ProducerStart {
  readonly rate: number;
  readonly keys: number;
  readonly partitions: number;
  /** `Date.now()` the schedule counts from. */
  readonly startedAt: number;
}

export interface ProducedBatches {
  readonly kind: 'batches';
  readonly batches: { partition: number; batch: Uint8Array }[];
  readonly count: number;
  /** The records' timestamp (`Date.now()` when the batches were built). */
  readonly timestamp: number;
  /** When the first of these records was due by the schedule (ms since the epoch). */
  readonly scheduledAt: number;
}

export interface ProducerStopped {
  readonly kind: 'stopped';
  readonly sent: number;
}

/** Records per step at most: a step late by seconds catches up over several steps. */
const MAX_STEP_RECORDS = 10_000;
const STEP_MS = 5;

const port = parentPort;
if (port === null) throw new Error('latency-producer-thread.js runs as a worker thread only');

const encoder = new TextEncoder();
let timer: NodeJS.Timeout | undefined;
let sent = 0;

port.on('message', (message: ProducerStart | 'stop') => {
  if (message === 'stop') {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    port.postMessage({ kind: 'stopped', sent } satisfies ProducerStopped);
    return;
  }
  const random = xorshift32(7);
  const step = (): void => {
    const now = Date.now();
    const due = Math.min(MAX_STEP_RECORDS, Math.floor((message.rate * (now - message.startedAt)) / 1000) - sent);
    if (due > 0) {
      const scheduledAt = message.startedAt + ((sent + 1) * 1000) / message.rate;
      const builders = new Map<number, RecordBatchBuilder>();
      const timestamp = Date.now();
      for (let i = 0; i < due; i++) {
        const key = encoder.encode(JSON.stringify(`user-${Math.floor(random() * message.keys)}`));
        const value = JSON.stringify({ n: sent + i, amount: Math.round(random() * 1000) / 10 });
        const partition = partitionForKey(key, message.partitions);
        let builder = builders.get(partition);
        if (builder === undefined) builders.set(partition, (builder = new RecordBatchBuilder(80 * Math.ceil(due / message.partitions))));
        builder.add(timestamp, key, value);
      }
      const batches = [...builders].map(([partition, builder]) => ({ partition, batch: new Uint8Array(builder.finishTransferable()) }));
      port.postMessage(
        { kind: 'batches', batches, count: due, timestamp, scheduledAt } satisfies ProducedBatches,
        batches.map((b) => b.batch.buffer as ArrayBuffer),
      );
      sent += due;
    }
    timer = setTimeout(step, STEP_MS);
  };
  step();
});
