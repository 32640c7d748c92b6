/**
 * The local log's storage of record batches (log format 2) and its hardening: one
 * LevelDB entry per appended batch, reads from inside a batch, batch sets of whole
 * stored batches, the format 1 refusal, foreign directories, the partition limit and
 * failed (full-disk) writes.
 */
import t, { type Test } from 'tap';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { LocalLogBackend, MAX_PARTITIONS_PER_TOPIC } from '../../shared/log/local/local-log-backend.js';
import type { AppendRecord, LogRecord } from '../../shared/log/log-backend.js';
import {
  InvalidLogArgumentError,
  InvalidRecordBatchError,
  LogFormatError,
  LogWriteError,
  NotALogDirectoryError,
} from '../../shared/errors/log-errors.js';
import { batchesOf, decodeBatchSet, RecordBatchBuilder } from '../../shared/protocol/record-batch.js';

const encoder = new TextEncoder();
const bytes = (value: string): Uint8Array => encoder.encode(value);
const text = (value: Uint8Array | null): string | null => (value === null ? null : Buffer.from(value).toString('utf8'));

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-local-batches-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function records(topic: string, partition: number, from: number, count: number): AppendRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    topic,
    partition,
    key: bytes(`k${from + i}`),
    value: bytes(`v${from + i}`),
    timestamp: 1_700_000_000_000 + from + i,
  }));
}

function batchOf(values: readonly string[]): Uint8Array {
  const builder = new RecordBatchBuilder();
  for (const value of values) builder.add(1_700_000_000_000, bytes(`key-${value}`), bytes(value));
  return builder.finish();
}

/** The private LevelDB handle of a backend (tests only). */
function databaseOf(log: LocalLogBackend): ClassicLevel<Buffer, Buffer> {
  return (log as unknown as { store: { db: ClassicLevel<Buffer, Buffer> } }).store.db;
}

t.test('write encodes one batch per partition, split at 1,000 records; reads start anywhere inside one', async (t) => {
  const log = await LocalLogBackend.open(await tempDir(t));
  t.teardown(() => log.close());
  await log.createTopic('split', 2);
  const producer = await log.producer();
  const results = await producer.append([...records('split', 0, 0, 2_500), ...records('split', 1, 0, 10)]);
  t.same(results.slice(0, 2_500).map((r) => r.offset), Array.from({ length: 2_500 }, (_, i) => i), 'offsets per record');
  const reader = await log.reader();
  const tp = { topic: 'split', partition: 0 };
  const whole = await reader.readEncoded(tp, 0, 10_000);
  t.same(
    batchesOf(whole.buffer).batches.map((b) => b.baseOffset),
    [0, 1_000, 2_000],
    'three stored batches: 1,000 + 1,000 + 500 records',
  );
  t.equal(whole.count, 2_500);
  t.equal(whole.nextOffset, 2_500);
  for (const [from, max] of [
    [517, 3],
    [999, 2],
    [1_000, 1],
    [1_999, 1_000],
    [2_499, 5],
  ] as const) {
    const read = await reader.read(tp, from, max);
    const expectedCount = Math.min(max, 2_500 - from);
    t.same(
      read.map((r) => r.offset),
      Array.from({ length: expectedCount }, (_, i) => from + i),
      `read(${from}, ${max}) starts inside a batch and keeps to maxRecords`,
    );
    t.same(read.map((r) => text(r.value)), read.map((r) => `v${r.offset}`));
    const encoded = await reader.readEncoded(tp, from, max);
    const decoded = decodeBatchSet(encoded.buffer, 'split', 0);
    t.equal(decoded[0]?.offset, from, `readEncoded(${from}, ${max}) skips the records before ${from}`);
    t.ok(encoded.count >= expectedCount && encoded.count < expectedCount + 1_000, 'whole batches: less than one batch more than asked');
    t.same(decoded.slice(0, max).map(plain), read.map(plain), 'and decodes to the records of read');
  }
  await reader.close();
});

t.test('write splits a partition\'s records at about 1 MiB per batch', async (t) => {
  const log = await LocalLogBackend.open(await tempDir(t));
  t.teardown(() => log.close());
  await log.createTopic('big', 1);
  const producer = await log.producer();
  const value = new Uint8Array(300 * 1024).fill(0x61);
  await producer.append(Array.from({ length: 10 }, () => ({ topic: 'big', partition: 0, key: null, value })));
  const reader = await log.reader();
  const { batches } = batchesOf((await reader.readEncoded({ topic: 'big', partition: 0 }, 0, 100)).buffer);
  t.same(batches.map((b) => b.baseOffset), [0, 4, 8], 'a batch is closed once it reaches 1 MiB');
  t.ok(batches.every((b) => b.batch.byteLength < 1.5 * 1024 * 1024));
  t.equal((await reader.read({ topic: 'big', partition: 0 }, 0, 100)).length, 10);
});

t.test('appendBatches stores the caller\'s bytes unchanged; an empty batch takes no offset', async (t) => {
  const log = await LocalLogBackend.open(await tempDir(t));
  t.teardown(() => log.close());
  await log.createTopic('raw', 2);
  const producer = await log.producer();
  const first = batchOf(['a', 'b', 'c']);
  const empty = new RecordBatchBuilder().finish();
  const second = batchOf(['d', 'e']);
  const results = await producer.appendBatches([
    { topic: 'raw', partition: 1, batch: first },
    { topic: 'raw', partition: 1, batch: empty },
    { topic: 'raw', partition: 1, batch: second },
    { topic: 'raw', partition: 0, batch: empty },
  ]);
  t.same(
    results.map((r) => [r.partition, r.baseOffset, r.lastOffset]),
    [
      [1, 0, 2],
      [1, 3, 2],
      [1, 3, 4],
      [0, 0, -1],
    ],
    'an empty batch gets lastOffset = baseOffset − 1 and the next batch its base',
  );
  t.same(await log.watermarks({ topic: 'raw', partition: 0 }), { low: 0, high: 0 }, 'an empty batch writes nothing');
  const reader = await log.reader();
  const { batches } = batchesOf((await reader.readEncoded({ topic: 'raw', partition: 1 }, 0, 100)).buffer);
  t.same(batches.map((b) => b.baseOffset), [0, 3], 'one stored batch per appended batch');
  t.same(Buffer.from(batches[0]!.batch), Buffer.from(first), 'stored byte for byte');
  t.same(Buffer.from(batches[1]!.batch), Buffer.from(second));
  t.same((await reader.read({ topic: 'raw', partition: 1 }, 0, 100)).map((r) => text(r.value)), ['a', 'b', 'c', 'd', 'e']);
});

t.test('appendBatches refuses foreign bytes before reserving offsets, naming topic and partition', async (t) => {
  const log = await LocalLogBackend.open(await tempDir(t));
  t.teardown(() => log.close());
  await log.createTopic('checked', 3);
  const producer = await log.producer();
  const foreign = new Uint8Array(40).fill(7);
  const error = await producer
    .appendBatches([
      { topic: 'checked', partition: 2, batch: batchOf(['ok']) },
      { topic: 'checked', partition: 2, batch: foreign },
    ])
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  t.type(error, InvalidRecordBatchError);
  t.match(error, { code: 'LOG_INVALID_RECORD_BATCH', topic: 'checked', partition: 2 });
  t.match((error as Error).message, /partition 2 of topic "checked".*magic 7/);
  const lying = batchOf(['x', 'y']);
  new DataView(lying.buffer, lying.byteOffset).setUint32(8, 5, true); // dense, 2 records, last delta 5
  await t.rejects(producer.appendBatches([{ topic: 'checked', partition: 0, batch: lying }]), InvalidRecordBatchError);
  await t.rejects(
    producer.appendBatches([{ topic: 'checked', partition: 0, batch: 'nope' as unknown as Uint8Array }]),
    { code: 'LOG_INVALID_ARGUMENT', field: 'batch' },
  );
  t.same(await log.watermarks({ topic: 'checked', partition: 2 }), { low: 0, high: 0 }, 'nothing was written');
  const [next] = await producer.appendBatches([{ topic: 'checked', partition: 2, batch: batchOf(['after']) }]);
  t.equal(next?.baseOffset, 0, 'and no offset was reserved');
});

t.test('a log written by format 1 (one entry per record) is refused with what to do', async (t) => {
  const dir = await tempDir(t);
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  await db.put(Buffer.from([0x01]), Buffer.from(JSON.stringify(1)));
  await db.close();
  const error = await LocalLogBackend.open(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(error, LogFormatError);
  t.match(error, { code: 'LOG_FORMAT', path: dir });
  const message = (error as Error).message;
  t.match(message, /earlier weir/, 'says an earlier weir wrote it');
  t.match(message, /one LevelDB entry per record/, 'and how it stored records');
  t.match(message, /[Dd]elete the log directory/, 'what to do: delete it and produce again');
  t.match(message, /weir version that wrote it/, 'or run the version that wrote it');
  // The directory is closed again: a second attempt fails the same way, not with a lock error.
  await t.rejects(LocalLogBackend.open(dir, { lockRetries: 0 }), LogFormatError);
});

t.test('a non-empty directory without a LevelDB database is not taken over', async (t) => {
  const dir = await tempDir(t);
  const foreign = join(dir, 'home');
  await mkdir(foreign);
  await writeFile(join(foreign, 'notes.txt'), 'mine');
  const error = await LocalLogBackend.open(foreign).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(error, NotALogDirectoryError);
  t.match(error, { code: 'LOG_NOT_A_LOG_DIRECTORY', path: foreign });
  t.match((error as Error).message, /notes\.txt/);
  t.match((error as Error).message, /empty or missing directory/);
  const aFile = join(dir, 'a-file');
  await writeFile(aFile, 'x');
  await t.rejects(LocalLogBackend.open(aFile), NotALogDirectoryError, 'a file is refused too');

  const empty = join(dir, 'empty');
  await mkdir(empty);
  const log = await LocalLogBackend.open(empty);
  await log.createTopic('t', 1);
  await log.close();
  const reopened = await LocalLogBackend.open(empty);
  t.match(await reopened.describeTopic('t'), { partitions: 1 }, 'an empty directory becomes a log, and reopens');
  await reopened.close();
  const missing = join(dir, 'missing', 'nested');
  await (await LocalLogBackend.open(missing)).close();
  t.pass('a missing directory is created');
});

t.test('a topic has at most MAX_PARTITIONS_PER_TOPIC partitions; damaged metadata is refused at open', async (t) => {
  const dir = await tempDir(t);
  const log = await LocalLogBackend.open(dir);
  t.equal(MAX_PARTITIONS_PER_TOPIC, 10_000);
  await t.rejects(log.createTopic('huge', MAX_PARTITIONS_PER_TOPIC + 1), { code: 'LOG_INVALID_ARGUMENT', field: 'partitions' });
  await t.rejects(log.createTopic('huge', 1e9), InvalidLogArgumentError);
  t.equal(await log.describeTopic('huge'), undefined, 'nothing was created');
  await log.createTopic('widest', MAX_PARTITIONS_PER_TOPIC);
  t.match(await log.describeTopic('widest'), { partitions: MAX_PARTITIONS_PER_TOPIC });
  await log.close();

  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  await db.put(Buffer.concat([Buffer.from([0x02]), Buffer.from('damaged')]), Buffer.from(JSON.stringify({ id: 9, partitions: 2 ** 40, config: {} })));
  await db.close();
  const error = await LocalLogBackend.open(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(error, LogFormatError, 'a stored partition count over the limit fails the open');
  t.match((error as Error).message, /topic "damaged" is stored with 1099511627776 partitions/);
});

t.test('a full disk fails the write with LogWriteError and appends nothing of it', async (t) => {
  const log = await LocalLogBackend.open(await tempDir(t));
  t.teardown(() => log.close());
  await log.createTopic('full', 1);
  const producer = await log.producer();
  await producer.append(records('full', 0, 0, 3));
  // What classic-level raises when LevelDB's write-ahead log cannot grow.
  const restoreWrites = failBatchWrites(log, `IO error: ${log.path}/000005.log: No space left on device`);
  const [appendError, batchError, commitError] = await Promise.all([
    producer.append(records('full', 0, 3, 5)).then(() => undefined, (e: unknown) => e),
    producer.appendBatches([{ topic: 'full', partition: 0, batch: batchOf(['x']) }]).then(() => undefined, (e: unknown) => e),
    producer.appendAndCommit([], 'g', [{ topic: 'full', partition: 0, offset: 2 }]).then(() => undefined, (e: unknown) => e),
  ]);
  for (const error of [appendError, batchError, commitError]) {
    t.type(error, LogWriteError);
    t.match(error, { code: 'LOG_DISK_FULL', diskFull: true, path: log.path });
    t.match((error as Error).message, /disk is full.*No space left on device.*nothing of this write was appended/);
  }
  t.same(await log.watermarks({ topic: 'full', partition: 0 }), { low: 0, high: 3 }, 'the high watermark did not move');
  t.same(
    (await log.committedOffsets('g', [{ topic: 'full', partition: 0 }])).get('full[0]'),
    undefined,
    'no offset was committed',
  );
  restoreWrites();
  const [after] = await producer.append(records('full', 0, 100, 1));
  t.equal(after?.offset, 3, 'once there is space, appends go on from the durable high watermark');
  const reader = await log.reader();
  t.same((await reader.read({ topic: 'full', partition: 0 }, 0, 100)).map((r) => text(r.value)), ['v0', 'v1', 'v2', 'v100']);
});

t.test('other write failures are LogWriteError LOG_WRITE_FAILED', async (t) => {
  const log = await LocalLogBackend.open(await tempDir(t));
  t.teardown(() => log.close());
  await log.createTopic('io', 1);
  const restoreWrites = failBatchWrites(log, 'IO error: 000007.log: Input/output error');
  const producer = await log.producer();
  await t.rejects(producer.append(records('io', 0, 0, 1)), { code: 'LOG_WRITE_FAILED', diskFull: false });
  restoreWrites();
});

/**
 * Makes every LevelDB batch write of `log` fail as classic-level does on an I/O error
 * (`LEVEL_IO_ERROR` with `message`); returns what puts the real writes back.
 */
function failBatchWrites(log: LocalLogBackend, message: string): () => void {
  const db = databaseOf(log);
  const realBatch = db.batch.bind(db);
  db.batch = (() => {
    const batch = realBatch();
    batch.write = async () => {
      batch.close();
      throw Object.assign(new Error(message), { code: 'LEVEL_IO_ERROR' });
    };
    return batch;
  }) as typeof db.batch;
  return () => {
    db.batch = realBatch as typeof db.batch;
  };
}

function plain(r: LogRecord): unknown {
  const hex = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString('hex'));
  return { offset: r.offset, timestamp: r.timestamp, key: hex(r.key), value: hex(r.value), headers: r.headers.map((h) => [h.key, hex(h.value)]) };
}
