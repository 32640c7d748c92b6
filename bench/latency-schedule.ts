/**
 * The latency bench's input: count events (`user-N` keys over `keys` keys, `{n, amount}`
 * values as `npm start` writes them) due at a steady rate since `startedAt`, encoded as
 * one record batch per partition (murmur2 of the key, as any producer places keyed
 * records), every record of a step stamped with `Date.now()` when its batches are built.
 * Used by the producer thread and by the producer on the job's thread alike.
 */
import { RecordBatchBuilder, writeUtf8 } from '../shared/protocol/record-batch.js';
import { partitionForKey } from '../shared/log/murmur2-partitioner.js';
import { drawCountEvent, xorshift32 } from '../examples/count/count-events.js';

export interface ScheduleOptions {
  readonly rate: number;
  readonly keys: number;
  readonly partitions: number;
  /** `Date.now()` the schedule counts from. */
  readonly startedAt: number;
}

/** One step's records. */
export interface ScheduledBatches {
  readonly batches: { partition: number; batch: Uint8Array }[];
  readonly count: number;
  /** The records' timestamp (`Date.now()` when the batches were built). */
  readonly timestamp: number;
  /** When the first of these records was due by the schedule (ms since the epoch). */
  readonly scheduledAt: number;
}

/** How often a producer takes a step, ms. */
export const STEP_MS = 5;
/** Records per step at most: a step late by seconds catches up over several steps. */
const MAX_STEP_RECORDS = 10_000;

export class CountEventSchedule {
  #sent = 0;
  readonly #random = xorshift32(7);
  /** A key's UTF-8, to partition it by (keys are short). */
  readonly #keyBytes = new Uint8Array(256);

  constructor(private readonly options: ScheduleOptions) {}

  /** The records due by now, `undefined` when none is. */
  due(): ScheduledBatches | undefined {
    const { rate, keys, partitions, startedAt } = this.options;
    const due = Math.min(MAX_STEP_RECORDS, Math.floor((rate * (Date.now() - startedAt)) / 1000) - this.#sent);
    if (due <= 0) return undefined;
    const scheduledAt = startedAt + ((this.#sent + 1) * 1000) / rate;
    const builders = new Map<number, RecordBatchBuilder>();
    const timestamp = Date.now();
    for (let i = 0; i < due; i++) {
      const event = drawCountEvent(this.#random, keys, this.#sent + i);
      const key = JSON.stringify(event.key);
      const value = JSON.stringify(event.value);
      const partition = partitionForKey(this.#keyBytes.subarray(0, writeUtf8(this.#keyBytes, 0, key)), partitions);
      let builder = builders.get(partition);
      if (builder === undefined) builders.set(partition, (builder = new RecordBatchBuilder(80 * Math.ceil(due / partitions))));
      builder.add(timestamp, key, value);
    }
    this.#sent += due;
    const batches = [...builders].map(([partition, builder]) => ({ partition, batch: new Uint8Array(builder.finishTransferable()) }));
    return { batches, count: due, timestamp, scheduledAt };
  }
}
