/**
 * Local log benchmark: append and read throughput of the local log backend, next to
 * raw classic-level in the same run. Records have ~10 B keys and 100 B values; a call
 * appends 1,000 records to a topic of 8 partitions, placed by key (murmur2).
 *
 * Measured per round (records/s):
 * - `append`: `LogProducer.append` of 1,000 record objects (the log encodes one batch
 *   per partition); also with `sync: true`.
 * - `appendBatches`: the data plane's append: the same 1,000 records as 8 record
 *   batches already encoded (as a worker hands them over), stored as they are.
 * - `read`: `PartitionReader.read` batches of 1,000 (decodes record objects).
 * - `readEncoded`: `PartitionReader.readEncoded` of 1,000 (batch sets, no decoding).
 * - `pollBatches`: a group consumer's `pollBatches(1,000)` over all 8 partitions.
 * - raw classic-level: chained batch writes of one entry per record (17-byte keys, values
 *   of the record's size) and an iterator scan of them: the layout of log format 1, kept
 *   as the baseline the first versions of the log were measured against.
 *
 * Rounds interleave log and raw so machine noise hits both alike; the medians are
 * reported. Prints one JSON document. Run: `node dist/bench/log.bench.js [rounds] [batchesPerRound]`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import type { AppendBatch, AppendRecord, TopicPartition } from '../shared/log/log-backend.js';
import { LocalLogBackend } from '../shared/log/local/local-log-backend.js';
import { partitionForKey } from '../shared/log/murmur2-partitioner.js';
import { RecordBatchBuilder } from '../shared/protocol/record-batch.js';

const ROUNDS = Number(process.argv[2] ?? 5);
const BATCHES = Number(process.argv[3] ?? 100);
const BATCH = 1_000;
const PARTITIONS = 8;
const VALUE_BYTES = 100;
const TOPIC = 'bench';

const value = new Uint8Array(VALUE_BYTES).fill(0x61);
const keys = Array.from({ length: BATCH }, (_, i) => new TextEncoder().encode(`user-${i}`));
/** Log format 1 stored per record: 17-byte key; value = 21 bytes of framing + key + value. */
const RAW_KEY_BYTES = 17;
const RAW_VALUE_BYTES = 21 + 9 + VALUE_BYTES;

interface RoundResult {
  readonly logAppend: number;
  readonly logAppendSync: number;
  readonly logAppendBatches: number;
  readonly logRead: number;
  readonly logReadEncoded: number;
  readonly logPollBatches: number;
  readonly rawWrite: number;
  readonly rawScan: number;
}

/** The records of one append call as the 8 record batches a worker would hand over. */
function encodedCall(): AppendBatch[] {
  const builders = Array.from({ length: PARTITIONS }, () => new RecordBatchBuilder(32 * 1024));
  const timestamp = Date.now();
  for (let i = 0; i < BATCH; i++) builders[partitionForKey(keys[i]!, PARTITIONS)]!.add(timestamp, keys[i]!, value);
  return builders.flatMap((builder, partition) => (builder.count === 0 ? [] : [{ topic: TOPIC, partition, batch: builder.finish() }]));
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

/** The data plane: appendBatches, readEncoded and pollBatches. */
async function batchRound(): Promise<{ appendBatches: number; readEncoded: number; pollBatches: number }> {
  const dir = await tempDir();
  const log = await LocalLogBackend.open(dir);
  try {
    await log.createTopic(TOPIC, PARTITIONS);
    const producer = await log.producer();
    const call = encodedCall();
    const started = performance.now();
    for (let b = 0; b < BATCHES; b++) await producer.appendBatches(call);
    const appendBatches = perSecond(BATCHES * BATCH, started);

    const reader = await log.reader();
    const readStarted = performance.now();
    let read = 0;
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const tp: TopicPartition = { topic: TOPIC, partition };
      for (let from = 0; ; ) {
        const encoded = await reader.readEncoded(tp, from, BATCH);
        if (encoded.count === 0) break;
        read += encoded.count;
        from = encoded.nextOffset ?? encoded.lastOffset + 1;
      }
    }
    if (read !== BATCHES * BATCH) throw new Error(`readEncoded ${read} records, appended ${BATCHES * BATCH}`);
    const readEncoded = perSecond(read, readStarted);

    const consumer = await log.consumer('bench');
    await consumer.subscribe([TOPIC], { onAssign: async () => {}, onRevoke: async () => {} });
    const pollStarted = performance.now();
    let polled = 0;
    while (polled < BATCHES * BATCH) {
      const sets = await consumer.pollBatches(BATCH, 1_000);
      if (sets.length === 0) throw new Error(`pollBatches stopped at ${polled} records`);
      for (const set of sets) polled += set.count;
    }
    const pollBatches = perSecond(polled, pollStarted);
    await consumer.close();
    return { appendBatches, readEncoded, pollBatches };
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
  const batches = await batchRound();
  rounds.push({
    logAppend: log.append,
    logAppendSync: logSync.append,
    logAppendBatches: batches.appendBatches,
    logRead: log.read,
    logReadEncoded: batches.readEncoded,
    logPollBatches: batches.pollBatches,
    rawWrite: raw.write,
    rawScan: raw.scan,
  });
}
const pick = (field: keyof RoundResult): number => median(rounds.map((r) => r[field]));
const result = {
  benchmark: 'local log append/read (records and record batches) vs raw classic-level',
  node: process.version,
  recordsPerRound: BATCHES * BATCH,
  rounds: ROUNDS,
  batchSize: BATCH,
  partitions: PARTITIONS,
  valueBytes: VALUE_BYTES,
  medianRecordsPerSecond: {
    localLogAppend: pick('logAppend'),
    localLogAppendSync: pick('logAppendSync'),
    localLogAppendBatches: pick('logAppendBatches'),
    localLogRead: pick('logRead'),
    localLogReadEncoded: pick('logReadEncoded'),
    localLogPollBatches: pick('logPollBatches'),
    rawClassicLevelBatchWrite: pick('rawWrite'),
    rawClassicLevelIteratorScan: pick('rawScan'),
  },
  ratios: {
    appendVsRawWrite: Number((pick('logAppend') / pick('rawWrite')).toFixed(2)),
    appendSyncVsRawWrite: Number((pick('logAppendSync') / pick('rawWrite')).toFixed(2)),
    appendBatchesVsRawWrite: Number((pick('logAppendBatches') / pick('rawWrite')).toFixed(2)),
    readVsRawScan: Number((pick('logRead') / pick('rawScan')).toFixed(2)),
    readEncodedVsRawScan: Number((pick('logReadEncoded') / pick('rawScan')).toFixed(2)),
  },
  perRound: rounds,
};
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
