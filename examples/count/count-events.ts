/**
 * The count job's input: the events `npm start` generates (start.ts) and the benchmarks
 * seed (bench/bench-support.ts), so both count the same thing.
 */
import type { AppendBatch, LogBackend, LogProducer } from '../../shared/log/log-backend.js';
import { partitionForKey } from '../../shared/log/murmur2-partitioner.js';
import { RecordBatchBuilder, writeUtf8 } from '../../shared/protocol/record-batch.js';

/** xorshift32 from `seed`: a deterministic stream of numbers in [0, 1). */
export function xorshift32(seed: number): () => number {
  let state = seed;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
}

export interface CountEvent {
  /** The record key as a string (`user-N`); weir stores it JSON-encoded (`"user-N"`). */
  readonly key: string;
  readonly value: { readonly n: number; readonly amount: number };
  readonly timestamp: number;
}

/** The `n`th event's key (one of `keys`, drawn uniformly) and value, two draws of `random`. */
export function drawCountEvent(random: () => number, keys: number, n: number): Pick<CountEvent, 'key' | 'value'> {
  const key = `user-${Math.floor(random() * keys)}`;
  return { key, value: { n, amount: Math.round(random() * 1000) / 10 } };
}

/**
 * `records` events over `keys` distinct keys drawn uniformly (xorshift32 seeded with 42,
 * so every run counts the same thing), `{n, amount}` values, 1 ms of event time per record.
 */
export function* countEvents(records: number, keys: number): Generator<CountEvent> {
  const random = xorshift32(42);
  for (let j = 0; j < records; j++) yield { ...drawCountEvent(random, keys, j), timestamp: 1_700_000_000_000 + j };
}

/** Records per append. */
const APPEND_RECORDS = 10_000;

/**
 * Appends `countEvents(records, keys)` to `topic` (of `partitions` partitions) through
 * `producer` in appends of 10,000 records, keys JSON-encoded and placed by the default
 * partitioner (murmur2), values encoded by `encodeValue` (default JSON); `onBatch` hears
 * the running total after each append. The records go in as record batches built from
 * the strings, one per partition and append: two `Uint8Array`s per record (the previous
 * form) made generation in `npm start` the peak of its resident memory.
 */
export async function appendCountEvents(
  producer: LogProducer,
  topic: string,
  partitions: number,
  records: number,
  keys: number,
  options: { encodeValue?: (value: CountEvent['value']) => Uint8Array; onBatch?: (appended: number) => void } = {},
): Promise<void> {
  const keyBytes = new Uint8Array(256);
  let builders: (RecordBatchBuilder | undefined)[] = new Array(partitions).fill(undefined);
  let pending = 0;
  let appended = 0;
  const flush = async (): Promise<void> => {
    const batches: AppendBatch[] = [];
    builders.forEach((builder, partition) => {
      if (builder !== undefined) batches.push({ topic, partition, batch: builder.finish() });
    });
    await producer.appendBatches(batches);
    appended += pending;
    pending = 0;
    builders = new Array(partitions).fill(undefined);
    options.onBatch?.(appended);
  };
  for (const event of countEvents(records, keys)) {
    const key = JSON.stringify(event.key);
    const partition = partitionForKey(keyBytes.subarray(0, writeUtf8(keyBytes, 0, key)), partitions);
    const builder = (builders[partition] ??= new RecordBatchBuilder(64 * 1024));
    const value = options.encodeValue === undefined ? JSON.stringify(event.value) : options.encodeValue(event.value);
    builder.add(event.timestamp, key, value);
    if (++pending === APPEND_RECORDS) await flush();
  }
  if (pending > 0) await flush();
}

/** Records in `topic` (the sum of its partitions' high watermarks; 0 when it does not exist). */
export async function recordsInTopic(backend: LogBackend, topic: string): Promise<number> {
  const description = await backend.describeTopic(topic);
  let total = 0;
  for (let p = 0; p < (description?.partitions ?? 0); p++) total += (await backend.watermarks({ topic, partition: p })).high;
  return total;
}
