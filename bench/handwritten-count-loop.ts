/**
 * The hand-written single-thread count loop of issue 10, on raw classic-level only
 * (never weir's log or state code): the baseline weir's count job is measured against.
 *
 * One LevelDB database holds everything, one key range per kind (a kind byte, then
 * big-endian numbers so LevelDB's order is numeric order):
 *
 * | kind | key                                 | value                                        |
 * | ---- | ----------------------------------- | -------------------------------------------- |
 * | `i`  | partition u32, offset u64           | input record: `{"key":…,"value":…,"timestamp":…}` |
 * | `c`  | partition u32, record key (UTF-8)   | the key's count (JSON number)                |
 * | `l`  | partition u32, offset u64           | changelog entry: `{"key":…,"value":count}`   |
 * | `o`  | partition u32, offset u64           | output record: `{"key":…,"value":count,"timestamp":…}` |
 * | `g`  | partition u32                       | consumer offset u64 (next input offset)      |
 *
 * The loop, partition by partition: read the input with one iterator in batches of 1,000
 * (`nextv`), decode each record, `getMany` the batch's distinct counters, count in memory,
 * then write one atomic chained batch with the updated counters, one changelog entry per
 * updated key, one output entry per input record and the consumer offset.
 *
 *   node dist/bench/handwritten-count-loop.js [--records 1000000] [--keys 100000] [--partitions 8] [--rounds 3]
 *       seeds a fresh database per round (not timed), runs the loop, prints one JSON document
 *   node dist/bench/handwritten-count-loop.js --run DB [--partitions 8]
 *       runs the loop once on an already seeded database, prints its result as one JSON line
 */
import { cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ClassicLevel } from 'classic-level';
import { countEvents } from '../examples/count/count-events.js';
import { loadAverage, median, positiveInteger, round, runNodeChild, tempDir, DIST, MIB } from './bench-support.js';

const INPUT = 0x69; // 'i'
const COUNTER = 0x63; // 'c'
const CHANGELOG = 0x6c; // 'l'
const OUTPUT = 0x6f; // 'o'
const GROUP_OFFSET = 0x67; // 'g'
const TWO_32 = 2 ** 32;

type Db = ClassicLevel<Buffer, Buffer>;

function openDb(path: string): Db {
  return new ClassicLevel<Buffer, Buffer>(path, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
}

/** kind u8 · partition u32 · offset u64 */
function offsetKey(kind: number, partition: number, offset: number): Buffer {
  const key = Buffer.allocUnsafe(13);
  key[0] = kind;
  key.writeUInt32BE(partition, 1);
  key.writeUInt32BE(Math.floor(offset / TWO_32), 5);
  key.writeUInt32BE(offset >>> 0, 9);
  return key;
}

function readOffset(key: Buffer, at: number): number {
  return key.readUInt32BE(at) * TWO_32 + key.readUInt32BE(at + 4);
}

function counterKey(partition: number, key: string): Buffer {
  const length = Buffer.byteLength(key, 'utf8');
  const buffer = Buffer.allocUnsafe(5 + length);
  buffer[0] = COUNTER;
  buffer.writeUInt32BE(partition, 1);
  buffer.write(key, 5, 'utf8');
  return buffer;
}

function groupOffsetKey(partition: number): Buffer {
  const key = Buffer.allocUnsafe(5);
  key[0] = GROUP_OFFSET;
  key.writeUInt32BE(partition, 1);
  return key;
}

function u64(n: number): Buffer {
  const buffer = Buffer.allocUnsafe(8);
  buffer.writeUInt32BE(Math.floor(n / TWO_32), 0);
  buffer.writeUInt32BE(n >>> 0, 4);
  return buffer;
}

/**
 * Kafka's murmur2 partitioner (the same placement weir's local log uses for keyed records).
 * A copy of shared/log/murmur2-partitioner.ts on purpose: the baseline loop never runs
 * weir's own components, so it keeps its own.
 */
function partitionOf(key: Uint8Array, partitions: number): number {
  const M = 0x5bd1e995;
  const length = key.length;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i << 2;
    let k = (key[i4]! | (key[i4 + 1]! << 8) | (key[i4 + 2]! << 16) | (key[i4 + 3]! << 24)) | 0;
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & ~3;
  const remaining = length & 3;
  if (remaining === 3) h ^= key[tail + 2]! << 16;
  if (remaining >= 2) h ^= key[tail + 1]! << 8;
  if (remaining >= 1) {
    h ^= key[tail]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return (h & 0x7fffffff) % partitions;
}

export interface SeedOptions {
  readonly records: number;
  readonly keys: number;
  readonly partitions: number;
}

/**
 * Writes the count job's input (the same events as `npm start`, placed on the same
 * partitions as weir's default partitioner places them) as one entry per record.
 */
export async function seedHandwrittenInput(path: string, options: SeedOptions): Promise<void> {
  const db = openDb(path);
  await db.open();
  try {
    const next = new Array<number>(options.partitions).fill(0);
    let batch = db.batch();
    let pending = 0;
    for (const event of countEvents(options.records, options.keys)) {
      const partition = partitionOf(Buffer.from(JSON.stringify(event.key)), options.partitions);
      batch.put(offsetKey(INPUT, partition, next[partition]!++), Buffer.from(JSON.stringify(event)));
      if (++pending === 10_000) {
        await batch.write();
        batch = db.batch();
        pending = 0;
      }
    }
    if (pending > 0) await batch.write();
    else await batch.close();
  } finally {
    await db.close();
  }
}

export interface LoopOptions {
  readonly partitions: number;
  /** Records read per iterator batch (the 1,000). */
  readonly batchSize?: number;
}

export interface LoopResult {
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  readonly changelogEntries: number;
  readonly outputEntries: number;
  readonly batches: number;
}

interface InputRecord {
  readonly key: string;
  readonly value: unknown;
  readonly timestamp: number;
}

/** Runs the count loop over every partition of the seeded database at `path`; times it from the open database to the last batch written. */
export async function runHandwrittenCountLoop(path: string, options: LoopOptions): Promise<LoopResult> {
  const batchSize = options.batchSize ?? 1_000;
  const db = openDb(path);
  await db.open();
  const started = performance.now();
  let records = 0;
  let changelogEntries = 0;
  let batches = 0;
  try {
    for (let partition = 0; partition < options.partitions; partition++) {
      const committed = await db.get(groupOffsetKey(partition));
      const from = committed === undefined ? 0 : readOffset(committed, 0);
      let changelogOffset = 0;
      let outputOffset = 0;
      const iterator = db.iterator({ gte: offsetKey(INPUT, partition, from), lt: offsetKey(INPUT, partition + 1, 0) });
      try {
        for (;;) {
          const entries = await iterator.nextv(batchSize);
          if (entries.length === 0) break;
          const inputs: InputRecord[] = new Array(entries.length);
          const counts = new Map<string, number>();
          for (let i = 0; i < entries.length; i++) {
            const record = JSON.parse(entries[i]![1].toString('utf8')) as InputRecord;
            inputs[i] = record;
            counts.set(record.key, 0);
          }
          const keys = [...counts.keys()];
          const counterKeys = keys.map((key) => counterKey(partition, key));
          const stored = await db.getMany(counterKeys);
          for (let i = 0; i < keys.length; i++) {
            const value = stored[i];
            if (value !== undefined) counts.set(keys[i]!, JSON.parse(value.toString('latin1')) as number);
          }
          const batch = db.batch();
          for (const record of inputs) {
            const count = counts.get(record.key)! + 1;
            counts.set(record.key, count);
            batch.put(
              offsetKey(OUTPUT, partition, outputOffset++),
              Buffer.from(JSON.stringify({ key: record.key, value: count, timestamp: record.timestamp })),
            );
          }
          for (let i = 0; i < keys.length; i++) {
            const key = keys[i]!;
            const count = counts.get(key)!;
            const value = Buffer.from(JSON.stringify(count));
            batch.put(counterKeys[i]!, value);
            batch.put(offsetKey(CHANGELOG, partition, changelogOffset++), Buffer.from(JSON.stringify({ key, value: count })));
          }
          const last = readOffset(entries[entries.length - 1]![0], 5);
          batch.put(groupOffsetKey(partition), u64(last + 1));
          await batch.write();
          records += entries.length;
          changelogEntries += keys.length;
          batches++;
        }
      } finally {
        await iterator.close();
      }
    }
  } finally {
    await db.close();
  }
  const seconds = (performance.now() - started) / 1000;
  return { records, seconds, recordsPerSecond: records / seconds, changelogEntries, outputEntries: records, batches };
}

/** Runs the loop on a copy of the seeded database `seeded` in a child process (peak RSS measured); the copy is removed after. */
export async function runHandwrittenLoopChild(
  seeded: string,
  workDir: string,
  partitions: number,
): Promise<LoopResult & { wallSeconds: number; peakRssBytes: number | null; loadAverageAtStart: number[] }> {
  const copy = join(workDir, `loop-${process.pid}-${Date.now()}`);
  await cp(seeded, copy, { recursive: true });
  try {
    const child = await runNodeChild([join(DIST, 'bench', 'handwritten-count-loop.js'), '--run', copy, '--partitions', String(partitions)], {
      label: 'hand-written loop',
    });
    const result = JSON.parse(child.stdout.trim().split('\n').pop()!) as LoopResult;
    return { ...result, wallSeconds: child.wallSeconds, peakRssBytes: child.peakRssBytes, loadAverageAtStart: child.loadAverageAtStart };
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '1000000' },
      keys: { type: 'string', default: '100000' },
      partitions: { type: 'string', default: '8' },
      rounds: { type: 'string', default: '3' },
      run: { type: 'string' },
    },
  });
  const partitions = positiveInteger('partitions', values.partitions);
  if (values.run !== undefined) {
    const result = await runHandwrittenCountLoop(values.run, { partitions });
    process.stdout.write(JSON.stringify(result) + '\n');
    return;
  }
  const records = positiveInteger('records', values.records);
  const keys = positiveInteger('keys', values.keys);
  const rounds = positiveInteger('rounds', values.rounds);
  const loadAverageAtStart = loadAverage();
  const dir = await tempDir('weir-bench-handwritten-');
  try {
    const seeded = join(dir.path, 'seeded');
    const seedStarted = performance.now();
    await seedHandwrittenInput(seeded, { records, keys, partitions });
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const results = [];
    for (let r = 0; r < rounds; r++) {
      const result = await runHandwrittenLoopChild(seeded, dir.path, partitions);
      results.push({
        round: r + 1,
        recordsPerSecond: Math.round(result.recordsPerSecond),
        seconds: round(result.seconds, 2),
        changelogEntries: result.changelogEntries,
        outputEntries: result.outputEntries,
        peakRssMiB: result.peakRssBytes === null ? null : round(result.peakRssBytes / MIB, 1),
        loadAverageAtStart: result.loadAverageAtStart,
      });
      process.stderr.write(`hand-written loop round ${r + 1}: ${Math.round(result.recordsPerSecond)} records/s\n`);
    }
    process.stdout.write(
      JSON.stringify(
        {
          bench: 'handwritten-count-loop',
          records,
          keys,
          partitions,
          batchSize: 1_000,
          seedSeconds: round(seedSeconds, 1),
          rounds: results,
          median: { recordsPerSecond: Math.round(median(results.map((r) => r.recordsPerSecond))) },
          loadAverage: { start: loadAverageAtStart, end: loadAverage() },
        },
        null,
        2,
      ) + '\n',
    );
  } finally {
    await dir.cleanup();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
