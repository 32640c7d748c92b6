/**
 * Interactive queries, the worker's side: the entries of one message key in one store
 * partition, read from the partition's database, i.e. the committed (flushed) state,
 * never a transaction in progress (docs/server.md). Keys and values are decoded as
 * `weir state dump` prints them (workers/state/stored-keys.ts).
 */
import { SEPARATOR, NEVER_EXPIRES, readLiveValue } from '../shared/codecs/index.js';
import type { QueriedEntry, QueriedWindow, StateQuery } from '../shared/protocol/worker-protocol.js';
import type { WindowAggregationRunner } from './windows/index.js';
import { splitStoredKey, splitWindowKey } from './state/stored-keys.js';
import { DEFAULT_CF, type StorePartition } from './state/index.js';

const decoder = new TextDecoder();

function decodeValue(bytes: Uint8Array): unknown {
  const text = decoder.decode(bytes);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function withSeparator(key: Uint8Array, last: number): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key);
  out[key.length] = last;
  return out;
}

/** A window `{start, end}` overlapping `[from, to)`; other state keys only without a range. */
function inRange(stateKey: unknown, query: StateQuery): boolean {
  if (query.from === undefined && query.to === undefined) return true;
  if (typeof stateKey !== 'object' || stateKey === null || !('start' in stateKey) || !('end' in stateKey)) return false;
  const { start, end } = stateKey as { start: number; end: number };
  return (query.from === undefined || end > query.from) && (query.to === undefined || start < query.to);
}

/** The live entries of `query.key` (and `query.stateKey`, when given) in `partition`. */
export async function queryStorePartition(partition: StorePartition, query: StateQuery, windowStore: boolean): Promise<QueriedEntry[]> {
  const split = windowStore ? splitWindowKey : splitStoredKey;
  const entries: QueriedEntry[] = [];
  const add = (stored: Uint8Array, raw: Uint8Array): void => {
    let value = raw;
    let expiresAt: number | undefined;
    if (partition.ttlEnabled) {
      const live = readLiveValue(raw, partition.ttlHighWaterMs);
      if (live === undefined) return; // expired: the job would not read it
      if (live.expiresAtMs !== NEVER_EXPIRES) expiresAt = live.expiresAtMs;
      value = live.payload;
    }
    const parts = split(stored);
    if (!inRange(parts.stateKey, query)) return;
    entries.push({ ...parts, value: decodeValue(value), ...(expiresAt === undefined ? {} : { expiresAt }) });
  };
  const prefix = withSeparator(query.key, SEPARATOR);
  if (query.stateKey !== undefined) {
    const stored = new Uint8Array(prefix.length + query.stateKey.length);
    stored.set(prefix);
    stored.set(query.stateKey, prefix.length);
    const raw = await partition.get(stored, DEFAULT_CF);
    if (raw !== undefined) add(stored, raw);
    return entries;
  }
  for await (const [stored, raw] of partition.iterItems({ cf: DEFAULT_CF, lower: prefix, upper: withSeparator(query.key, SEPARATOR + 1) })) {
    add(stored, raw);
  }
  return entries;
}

/** A window state key `{start, end}` (window stores also hold count-window metadata keys). */
function isWindow(stateKey: unknown): stateKey is { start: number; end: number } {
  return typeof stateKey === 'object' && stateKey !== null && typeof (stateKey as { start?: unknown }).start === 'number' && typeof (stateKey as { end?: unknown }).end === 'number';
}

/**
 * The windows of `query.key` in a window store partition overlapping `[query.from,
 * query.to)`, in start order, each with its current result computed by `aggregation`
 * from the committed window state.
 */
export async function queryWindowPartition(partition: StorePartition, query: StateQuery, aggregation: WindowAggregationRunner): Promise<QueriedWindow[]> {
  const { stateKey: _one, ...all } = query;
  const windows: QueriedWindow[] = [];
  for (const entry of await queryStorePartition(partition, all, true)) {
    if (!isWindow(entry.stateKey)) continue;
    const { start, end } = entry.stateKey;
    windows.push({ start, end, value: aggregation.aggregates(entry.value) });
  }
  return windows;
}
