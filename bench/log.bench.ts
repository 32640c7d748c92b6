/**
 * Local log benchmark: append and read throughput of the local log backend, next to
 * raw classic-level in the same run (chained batch writes of the same number of
 * entries with keys and values of the same sizes as the log stores, and an iterator
 * scan of them). Records have ~10 B keys and 100 B values; appends are batches of
 * 1,000 records to a topic of 8 partitions, placed by key (murmur2); reads are
 * `PartitionReader.read` batches of 1,000. Rounds interleave log and raw so machine
 * noise hits both alike; the medians are reported. Also measures `sync: true` appends.
 *
 * Prints one JSON document. Run: `node dist/bench/log.bench.js [rounds] [batchesPerRound]`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import type { AppendRecord } from '../shared/log/log-backend.js';
import { LocalLogBackend } from '../shared/log/local/local-log-backend.js';

const ROUNDS = Number(process.argv[2] ?? 5);
const BATCHES = Number(process.argv[3] ?? 100);
const BATCH = 1_000;
const PARTITIONS = 8;
const VALUE_BYTES = 100;
const TOPIC = 'bench';

const value = new Uint8Array(VALUE_BYTES).fill(0x61);
const keys = Array.from({ length: BATCH }, (_, i) => new TextEncoder().encode(`user-${i}`));
/** What the log stores per record: 17-byte key; value = 21 bytes of framing + key + value. */
const RAW_KEY_BYTES = 17;
const RAW_VALUE_BYTES = 21 + 9 + VALUE_BYTES;

interface RoundResult {
  readonly logAppend: number;
  readonly logAppendSync: number;
  readonly logRead: number;
  readonly rawWrite: number;
  readonly rawScan: number;
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'weir-log-bench-'));
}

function perSecond(records: number, startedAt: number): number {
  return Math.round((records / (performance.now() - startedAt)) * 1000);
}

async function logRound(sync: boolean): Promise<{ append: number; read: number }> {
  const dir = await tempDir();
  const log = await LocalLogBackend.open(dir, { sync });
  try {
    await log.createTopic(TOPIC, PARTITIONS);
    const producer = await log.producer();
    const started = performance.now();
    for (let b = 0; b < BATCHES; b++) {
      const records: AppendRecord[] = new Array(BATCH);
      for (let i = 0; i < BATCH; i++) records[i] = { topic: TOPIC, key: keys[i]!, value };
      await producer.append(records);
    }
    const append = perSecond(BATCHES * BATCH, started);
    const reader = await log.reader();
    const readStarted = performance.now();
    let read = 0;
    for (let partition = 0; partition < PARTITIONS; partition++) {
      for (let from = 0; ; ) {
        const batch = await reader.read({ topic: TOPIC, partition }, from, BATCH);
        if (batch.length === 0) break;
        read += batch.length;
        from = batch[batch.length - 1]!.offset + 1;
      }
    }
    if (read !== BATCHES * BATCH) throw new Error(`read ${read} records, appended ${BATCHES * BATCH}`);
    return { append, read: perSecond(read, readStarted) };
  } finally {
    await log.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function rawRound(): Promise<{ write: number; scan: number }> {
  const dir = await tempDir();
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  try {
    const rawValue = Buffer.alloc(RAW_VALUE_BYTES, 0x61);
    const started = performance.now();
    let offset = 0;
    for (let b = 0; b < BATCHES; b++) {
      const keyBuffer = Buffer.allocUnsafe(BATCH * RAW_KEY_BYTES);
      const batch = db.batch();
      for (let i = 0; i < BATCH; i++, offset++) {
        const at = i * RAW_KEY_BYTES;
        keyBuffer[at] = 4;
        keyBuffer.writeUInt32BE(0, at + 1);
        keyBuffer.writeUInt32BE(offset % PARTITIONS, at + 5);
        keyBuffer.writeUInt32BE(0, at + 9);
        keyBuffer.writeUInt32BE(offset, at + 13);
        batch.put(keyBuffer.subarray(at, at + RAW_KEY_BYTES), rawValue);
      }
      await batch.write();
    }
    const write = perSecond(BATCHES * BATCH, started);
    const scanStarted = performance.now();
    let scanned = 0;
    const iterator = db.iterator();
    for (;;) {
      const entries = await iterator.nextv(BATCH);
      if (entries.length === 0) break;
      scanned += entries.length;
    }
    await iterator.close();
    return { write, scan: perSecond(scanned, scanStarted) };
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : Math.round((sorted[middle - 1]! + sorted[middle]!) / 2);
}

const rounds: RoundResult[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const raw = await rawRound();
  const log = await logRound(false);
  const logSync = await logRound(true);
  rounds.push({ logAppend: log.append, logAppendSync: logSync.append, logRead: log.read, rawWrite: raw.write, rawScan: raw.scan });
}
const pick = (field: keyof RoundResult): number => median(rounds.map((r) => r[field]));
const result = {
  benchmark: 'local log append/read vs raw classic-level',
  node: process.version,
  recordsPerRound: BATCHES * BATCH,
  rounds: ROUNDS,
  batchSize: BATCH,
  partitions: PARTITIONS,
  valueBytes: VALUE_BYTES,
  medianRecordsPerSecond: {
    localLogAppend: pick('logAppend'),
    localLogAppendSync: pick('logAppendSync'),
    localLogRead: pick('logRead'),
    rawClassicLevelBatchWrite: pick('rawWrite'),
    rawClassicLevelIteratorScan: pick('rawScan'),
  },
  ratios: {
    appendVsRawWrite: Number((pick('logAppend') / pick('rawWrite')).toFixed(2)),
    appendSyncVsRawWrite: Number((pick('logAppendSync') / pick('rawWrite')).toFixed(2)),
    readVsRawScan: Number((pick('logRead') / pick('rawScan')).toFixed(2)),
  },
  perRound: rounds,
};
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
