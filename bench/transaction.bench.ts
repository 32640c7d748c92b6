/**
 * Transaction benchmark: transactions of 1,000 keyed read-modify-writes (preload, get,
 * set), prepare and flush, over 100 k distinct keys, next to the raw classic-level limit
 * measured in the same run (one `getMany` + one batch write of the same keys).
 * Weir and raw transactions alternate one by one (same keys, order swapped every
 * transaction) so load from other processes on this shared machine hits both alike;
 * the ratio is the median over rounds of (weir rate / raw rate) within each round.
 *
 * The same workload also runs with a TTL on every write (a partition in TTL mode: stamped
 * values, an expiry index entry per write, the clock persisted), reported next to the plain
 * rate, and the TTL sweep is measured alone: expired keys deleted (with changelog
 * tombstones) per second at the default budget of 10,000 per checkpoint.
 * Prints one JSON document. Run: `node dist/bench/transaction.bench.js [rounds]`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { encodeJson, encodePrefix, encodeUserKey, joinPrefixedKey } from '../shared/codecs/index.js';
import { StorePartition, StateView } from '../workers/state/index.js';

const KEY_SPACE = 100_000;
const TX_SIZE = 1_000;
const TX_PER_ROUND = 20;
const ROUNDS = Number(process.argv[2] ?? 9);

const messageKeys = Array.from({ length: KEY_SPACE }, (_, i) => `user-${i}`);
const storedKeys = messageKeys.map((k) => joinPrefixedKey(encodePrefix(k), encodeUserKey('count')));

/** Deterministic pseudo-random batches so both sides touch the same keys. */
function batches(seed: number, count: number): number[][] {
  let state = seed >>> 0;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % KEY_SPACE;
  };
  return Array.from({ length: count }, () => Array.from({ length: TX_SIZE }, next));
}

async function populate(write: (keys: Uint8Array[], values: Uint8Array[]) => Promise<void>): Promise<void> {
  const zero = encodeJson(0);
  for (let i = 0; i < KEY_SPACE; i += TX_SIZE) {
    const keys = storedKeys.slice(i, i + TX_SIZE);
    await write(keys, keys.map(() => zero));
  }
}

let offset = 0;
/** Record time of the TTL side: it advances, the TTL (1 day) keeps every key alive. */
let clockMs = Date.UTC(2026, 0, 1);
const TTL = { ttlMs: 24 * 3600 * 1000 };
const prefixes = messageKeys.map((k) => encodePrefix(k));

/** One weir transaction: preload, read-modify-write per record, prepare, flush. Returns ms. */
async function weirTransaction(partition: StorePartition, batch: number[], withTtl = false): Promise<number> {
  const started = performance.now();
  const tx = partition.begin();
  await tx.preload(batch.map((i) => storedKeys[i]!));
  for (const i of batch) {
    if (withTtl) {
      const state = new StateView(tx, prefixes[i]!, ++clockMs);
      state.set('count', state.get<number>('count', 0) + 1, TTL);
      continue;
    }
    const state = tx.asState(messageKeys[i]);
    state.set('count', state.get<number>('count', 0) + 1);
  }
  offset += 1;
  // The changelog is encoded as a worker encodes it for the log.
  const changelog = await tx.prepare({ source: offset });
  if (changelog.length === 0 || changelog.encode(0).byteLength === 0) throw new Error('no changelog records');
  await tx.flush(offset);
  return performance.now() - started;
}

/** The raw limit for the same work: one getMany, decode/increment/encode, one batch. Returns ms. */
async function rawTransaction(db: ClassicLevel<Uint8Array, Uint8Array>, batch: number[]): Promise<number> {
  const started = performance.now();
  const keys = batch.map((i) => storedKeys[i]!);
  const values = await db.getMany(keys);
  const counts = new Map<number, number>();
  for (let j = 0; j < batch.length; j++) {
    const i = batch[j]!;
    const stored = values[j];
    const current = counts.get(i) ?? (stored === undefined ? 0 : (JSON.parse(Buffer.from(stored).toString('utf8')) as number));
    counts.set(i, current + 1);
  }
  const ops: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = [];
  for (const [i, count] of counts) ops.push({ type: 'put', key: storedKeys[i]!, value: encodeJson(count) });
  await db.batch(ops);
  return performance.now() - started;
}

/** One round: every batch through the three sides, rotating which goes first. Updates/s per side. */
async function round(
  partition: StorePartition,
  ttlPartition: StorePartition,
  db: ClassicLevel<Uint8Array, Uint8Array>,
  work: number[][],
): Promise<[number, number, number]> {
  const ms = [0, 0, 0];
  for (const [n, batch] of work.entries()) {
    const sides = [
      () => weirTransaction(partition, batch),
      () => rawTransaction(db, batch),
      () => weirTransaction(ttlPartition, batch, true),
    ];
    for (let k = 0; k < 3; k++) {
      const side = (n + k) % 3;
      ms[side]! += await sides[side]!();
    }
  }
  const updates = work.length * TX_SIZE;
  return [updates / (ms[0]! / 1000), updates / (ms[1]! / 1000), updates / (ms[2]! / 1000)];
}

/** Expired keys deleted per second by the sweep: 50 k keys expire at once, checkpoints delete them. */
async function sweepRate(dir: string): Promise<{ evictionsPerSec: number; checkpoints: number }> {
  const partition = await StorePartition.open(join(dir, 'sweep'), { hasChangelog: true });
  try {
    const keys = 50_000;
    for (let i = 0; i < keys; i += TX_SIZE) {
      const tx = partition.begin();
      for (let j = i; j < i + TX_SIZE; j++) new StateView(tx, prefixes[j]!, 1000).set('seen', 1, { ttlMs: 1000 });
      await tx.prepare(null);
      await tx.flush();
    }
    const started = performance.now();
    let checkpoints = 0;
    let evicted = 0;
    for (;;) {
      const tx = partition.begin();
      tx.observeTimestamp(10_000);
      const records = (await tx.prepare(null)).records();
      await tx.flush();
      checkpoints++;
      const tombstones = records.filter((r) => r.value === null).length;
      if (tombstones === 0) break;
      evicted += tombstones;
    }
    if (evicted !== keys) throw new Error(`the sweep deleted ${evicted} of ${keys} keys`);
    return { evictionsPerSec: Math.round(evicted / ((performance.now() - started) / 1000)), checkpoints };
  } finally {
    await partition.close();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-tx-bench-'));
  const partition = await StorePartition.open(join(dir, 'weir'), { hasChangelog: true });
  const ttlPartition = await StorePartition.open(join(dir, 'weir-ttl'), { hasChangelog: true });
  const raw = new ClassicLevel<Uint8Array, Uint8Array>(join(dir, 'raw'), { keyEncoding: 'view', valueEncoding: 'view' });
  await raw.open();
  try {
    for (const p of [partition, ttlPartition]) {
      await populate(async (keys, values) => {
        const tx = p.begin();
        keys.forEach((key, i) => tx.setBytes(key, values[i]!, new Uint8Array(0)));
        await tx.flush();
      });
    }
    await populate((keys, values) => raw.batch(keys.map((key, i) => ({ type: 'put' as const, key, value: values[i]! }))));
    // Warm-up round (JIT, caches), not reported.
    await round(partition, ttlPartition, raw, batches(1, 5));
    const weir: number[] = [];
    const rawRates: number[] = [];
    const ratios: number[] = [];
    const ttlRates: number[] = [];
    const ttlRatios: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const [weirRate, rawRate, ttlRate] = await round(partition, ttlPartition, raw, batches(100 + r, TX_PER_ROUND));
      weir.push(weirRate);
      rawRates.push(rawRate);
      ratios.push(weirRate / rawRate);
      ttlRates.push(ttlRate);
      ttlRatios.push(ttlRate / weirRate);
    }
    const sweep = await sweepRate(dir);
    const weirMedian = median(weir);
    const rawMedian = median(rawRates);
    const result = {
      benchmark: 'transaction',
      keySpace: KEY_SPACE,
      updatesPerTransaction: TX_SIZE,
      transactionsPerRound: TX_PER_ROUND,
      rounds: ROUNDS,
      weirUpdatesPerSec: Math.round(weirMedian),
      rawUpdatesPerSec: Math.round(rawMedian),
      ratio: Number(median(ratios).toFixed(3)),
      ratioRounds: ratios.map((r) => Number(r.toFixed(3))),
      target: 0.7,
      weirRounds: weir.map(Math.round),
      rawRounds: rawRates.map(Math.round),
      ttl: {
        weirTtlUpdatesPerSec: Math.round(median(ttlRates)),
        ratioToPlain: Number(median(ttlRatios).toFixed(3)),
        sweepEvictionsPerSec: sweep.evictionsPerSec,
        sweepCheckpoints: sweep.checkpoints,
      },
      node: process.version,
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await partition.close();
    await ttlPartition.close();
    await raw.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
