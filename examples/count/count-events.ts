/**
 * The count job's input: the events `npm start` generates (start.ts) and the benchmarks
 * seed (bench/bench-support.ts), so both count the same thing.
 */
import type { AppendRecord, LogProducer } from '../../shared/log/log-backend.js';

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

/**
 * `records` events over `keys` distinct keys drawn uniformly (xorshift32 seeded with 42,
 * so every run counts the same thing), `{n, amount}` values, 1 ms of event time per record.
 */
export function* countEvents(records: number, keys: number): Generator<CountEvent> {
  const random = xorshift32(42);
  for (let j = 0; j < records; j++) {
    const key = `user-${Math.floor(random() * keys)}`;
    yield { key, value: { n: j, amount: Math.round(random() * 1000) / 10 }, timestamp: 1_700_000_000_000 + j };
  }
}

const encoder = new TextEncoder();

/**
 * Appends `countEvents(records, keys)` to `topic` through `producer` in batches of 10,000
 * (keys JSON-encoded, partition by the default partitioner), values encoded by
 * `encodeValue` (default JSON); `onBatch` hears the running total after each batch.
 */
export async function appendCountEvents(
  producer: LogProducer,
  topic: string,
  records: number,
  keys: number,
  options: { encodeValue?: (value: CountEvent['value']) => Uint8Array; onBatch?: (appended: number) => void } = {},
): Promise<void> {
  const encodeValue = options.encodeValue ?? ((value) => encoder.encode(JSON.stringify(value)));
  let batch: AppendRecord[] = [];
  let appended = 0;
  const flush = async (): Promise<void> => {
    await producer.append(batch);
    appended += batch.length;
    batch = [];
    options.onBatch?.(appended);
  };
  for (const event of countEvents(records, keys)) {
    batch.push({ topic, key: encoder.encode(JSON.stringify(event.key)), value: encodeValue(event.value), timestamp: event.timestamp });
    if (batch.length === 10_000) await flush();
  }
  if (batch.length > 0) await flush();
}
