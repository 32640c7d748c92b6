/**
 * Compaction of the local log's `compact` topics: the latest record per key survives at
 * its offset, tombstones are kept for deleteRetentionMs, null keys are dropped, appends
 * racing a pass are never lost, reads and consumers step over the gaps, other topics
 * are untouched, and close() stops a pass cleanly.
 */
import t, { type Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalLogBackend } from '../../shared/log/local/local-log-backend.js';
import type { LogRecord, PartitionReader, TopicPartition } from '../../shared/log/log-backend.js';
import { InvalidLogArgumentError } from '../../shared/errors/log-errors.js';
import { decodeBatchSet, RecordBatchBuilder } from '../../shared/protocol/record-batch.js';
import { backgroundPauseMs, MAX_STEP_PAUSE_MS } from '../../shared/log/local/log-compactor.js';

const encoder = new TextEncoder();
const bytes = (value: string): Uint8Array => encoder.encode(value);
const text = (value: Uint8Array | null): string | null => (value === null ? null : Buffer.from(value).toString('utf8'));
const DAY_MS = 24 * 60 * 60 * 1000;

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-local-compaction-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Every record of a partition, read in chunks of `max`. */
async function readAll(reader: PartitionReader, tp: TopicPartition, max = 5_000): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for (let from = 0; ; ) {
    const records = await reader.read(tp, from, max);
    if (records.length === 0) return out;
    out.push(...records);
    from = records[records.length - 1]!.offset + 1;
  }
}

const KEYS = 1_000;
const UPDATES = 1_000_000;
const BATCH = 1_000;
/** Update `i` writes key `k${i % KEYS}`; the last update of every tenth key is a tombstone. */
const isTombstone = (i: number): boolean => i >= UPDATES - KEYS && (i % KEYS) % 10 === 0;

t.test('1 M updates over 1 k keys compact to one record per key, at its offset, while appends go on', { timeout: 120_000 }, async (t) => {
  const log = await LocalLogBackend.open(await tempDir(t));
  t.teardown(() => log.close());
  await log.createTopic('changelog', 1, { compact: true });
  await log.createTopic('plain', 1);
  const producer = await log.producer();
  const tp = { topic: 'changelog', partition: 0 };
  const now = Date.now();
  const started = performance.now();
  for (let start = 0; start < UPDATES; start += BATCH) {
    const builder = new RecordBatchBuilder(64 * BATCH);
    for (let i = start; i < start + BATCH; i++) {
      builder.add(now, bytes(`k${i % KEYS}`), isTombstone(i) ? null : bytes(`v${i}`));
    }
    const [result] = await producer.appendBatches([{ ...tp, batch: builder.finish() }]);
    if (result!.baseOffset !== start) throw new Error(`batch at ${start} landed at ${result!.baseOffset}`);
  }
  // A plain topic with the same kind of updates: never compacted.
  await producer.append(Array.from({ length: 5_000 }, (_, i) => ({ topic: 'plain', partition: 0, key: bytes(`k${i % 10}`), value: bytes(`p${i}`) })));
  t.comment(`appended ${UPDATES} updates in ${Math.round(performance.now() - started)} ms (background compaction running)`);

  // Appends racing compact(): unique keys, so compaction must keep every one.
  const compactStarted = performance.now();
  const compaction = log.compact();
  const racing: { offset: number; value: string }[] = [];
  for (let round = 0; round < 40; round++) {
    const values = Array.from({ length: 250 }, (_, i) => `racing-${round}-${i}`);
    const results = await producer.append(values.map((value) => ({ ...tp, key: bytes(value), value: bytes(value), timestamp: now })));
    results.forEach((r, i) => racing.push({ offset: r.offset, value: values[i]! }));
    await new Promise((resolve) => setImmediate(resolve));
  }
  const stats = await compaction;
  t.comment(`compact(): ${JSON.stringify(stats)} in ${Math.round(performance.now() - compactStarted)} ms`);
  t.ok(stats.passes >= 1, 'compact() ran passes');

  const reader = await log.reader();
  const all = await readAll(reader, tp);
  const compacted = all.filter((r) => r.offset < UPDATES);
  t.equal(compacted.length, KEYS, 'exactly one record per key is left of the 1 M updates');
  const byKey = new Map(compacted.map((r) => [text(r.key)!, r]));
  t.equal(byKey.size, KEYS, 'one per key');
  let latest = true;
  let tombstones = 0;
  for (let k = 0; k < KEYS; k++) {
    const offset = UPDATES - KEYS + k;
    const record = byKey.get(`k${k}`);
    if (record === undefined || record.offset !== offset) latest = false;
    else if (isTombstone(offset) ? record.value !== null : text(record.value) !== `v${offset}`) latest = false;
    if (record?.value === null) tombstones++;
  }
  t.ok(latest, 'each is the latest update of its key, at its original offset');
  t.equal(tombstones, KEYS / 10, 'recent tombstones are kept');
  const racingRead = new Map(all.filter((r) => r.offset >= UPDATES).map((r) => [r.offset, text(r.value)]));
  t.equal(racing.filter((r) => racingRead.get(r.offset) !== r.value).length, 0, `all ${racing.length} records appended during compaction are there`);
  t.equal(all.length, KEYS + racing.length, 'and nothing else');
  t.same(await log.watermarks(tp), { low: 0, high: UPDATES + racing.length }, 'watermarks do not move');

  // Reads and consumers step over the gaps.
  const inGap = await reader.read(tp, 10, 3);
  t.same(inGap.map((r) => r.offset), [UPDATES - KEYS, UPDATES - KEYS + 1, UPDATES - KEYS + 2], 'a read from a compacted offset starts at the next record');
  let encodedCount = 0;
  let calls = 0;
  let stuck = false;
  for (let from = 0; from < UPDATES + racing.length; calls++) {
    const encoded = await reader.readEncoded(tp, from, 1_000);
    if (encoded.nextOffset === undefined || encoded.nextOffset <= from) {
      stuck = true;
      break;
    }
    const decoded = decodeBatchSet(encoded.buffer, 'changelog', 0);
    if (decoded.length !== encoded.count) stuck = true;
    encodedCount += decoded.length;
    from = encoded.nextOffset;
  }
  t.notOk(stuck, 'readEncoded always moves on, and counts what it holds');
  t.equal(encodedCount, all.length, `readEncoded from 0 to the high watermark sees every record (${calls} reads)`);
  const consumer = await log.consumer('compaction-reader');
  await consumer.subscribe(['changelog'], { onAssign: async () => {}, onRevoke: async () => {} });
  let polled = 0;
  for (;;) {
    const sets = await consumer.pollBatches(2_000, 100);
    if (sets.length === 0) break;
    for (const set of sets) polled += decodeBatchSet(set.buffer, set.topic, set.partition).length;
  }
  t.equal(polled, all.length, 'pollBatches steps over the gaps');
  await consumer.close();

  const plain = await readAll(reader, { topic: 'plain', partition: 0 });
  t.same(plain.map((r) => text(r.value)), Array.from({ length: 5_000 }, (_, i) => `p${i}`), 'a non-compact topic is untouched');
  await t.rejects(log.compact('plain'), InvalidLogArgumentError, 'compact() of a non-compact topic is refused');

  const again = await log.compact('changelog');
  t.equal(again.recordsRemoved, 0, 'a second compact() finds nothing more to remove');
  await reader.close();
  await producer.close();
});

t.test('tombstones go after deleteRetentionMs (record time); null keys are dropped; offsets stay', async (t) => {
  const dir = await tempDir(t);
  const log = await LocalLogBackend.open(dir, { deleteRetentionMs: DAY_MS });
  await log.createTopic('cl', 2, { compact: true });
  const producer = await log.producer();
  const now = Date.now();
  const appended = await producer.append([
    { topic: 'cl', partition: 0, key: bytes('gone'), value: bytes('1'), timestamp: now - 3 * DAY_MS },
    { topic: 'cl', partition: 0, key: bytes('gone'), value: null, timestamp: now - 2 * DAY_MS },
    { topic: 'cl', partition: 0, key: bytes('deleted-recently'), value: bytes('1'), timestamp: now - 2 * DAY_MS },
    { topic: 'cl', partition: 0, key: bytes('deleted-recently'), value: null, timestamp: now - 1_000 },
    { topic: 'cl', partition: 0, key: null, value: bytes('no key'), timestamp: now },
    { topic: 'cl', partition: 0, key: bytes('kept'), value: bytes('a'), timestamp: now, headers: [{ key: 'h', value: bytes('x') }] },
    { topic: 'cl', partition: 0, key: bytes('kept'), value: bytes('b'), timestamp: now, headers: [{ key: 'h', value: bytes('y') }] },
    { topic: 'cl', partition: 0, key: bytes('old-value'), value: bytes('stays'), timestamp: now - 10 * DAY_MS },
  ]);
  t.same(appended.map((r) => r.offset), [0, 1, 2, 3, 4, 5, 6, 7]);
  const stats = await log.compact();
  t.equal(stats.recordsRemoved, 5, 'superseded, expired tombstone and null-keyed records are removed');
  const reader = await log.reader();
  const left = await reader.read({ topic: 'cl', partition: 0 }, 0, 100);
  t.same(
    left.map((r) => [r.offset, text(r.key), text(r.value)]),
    [
      [3, 'deleted-recently', null],
      [6, 'kept', 'b'],
      [7, 'old-value', 'stays'],
    ],
    'the latest of each key at its offset; a tombstone younger than deleteRetentionMs stays; old values stay',
  );
  t.same(left[1]!.headers.map((h) => [h.key, text(h.value)]), [['h', 'y']], 'headers and timestamps survive');
  t.equal(left[1]!.timestamp, now);
  t.same(await log.watermarks({ topic: 'cl', partition: 0 }), { low: 0, high: 8 });
  const [next] = await producer.append([{ topic: 'cl', partition: 0, key: bytes('kept'), value: bytes('c') }]);
  t.equal(next?.offset, 8, 'appends go on after the high watermark');
  await log.close();

  // Reopened later with a shorter retention: the recent tombstone expires too.
  const reopened = await LocalLogBackend.open(dir, { deleteRetentionMs: 500 });
  t.teardown(() => reopened.close());
  const second = await reopened.compact('cl');
  t.equal(second.recordsRemoved, 2, 'the now expired tombstone and the superseded "kept" go');
  const reader2 = await reopened.reader();
  t.same(
    (await reader2.read({ topic: 'cl', partition: 0 }, 0, 100)).map((r) => [r.offset, text(r.key), text(r.value)]),
    [
      [7, 'old-value', 'stays'],
      [8, 'kept', 'c'],
    ],
  );
  const empty = await reader2.readEncoded({ topic: 'cl', partition: 0 }, 0, 100);
  t.equal(empty.count, 2);
  t.equal(empty.nextOffset, 9);
  const gapOnly = await reader2.readEncoded({ topic: 'cl', partition: 0 }, 0, 0);
  t.equal(gapOnly.count, 0);
});

t.test('background compaction starts by itself once enough was appended', async (t) => {
  const log = await LocalLogBackend.open(await tempDir(t), { compactionMinDirtyRecords: 500, compactionBackgroundDelayMs: 100 });
  t.teardown(() => log.close());
  await log.createTopic('auto', 1, { compact: true });
  const producer = await log.producer();
  for (let round = 0; round < 20; round++) {
    await producer.append(Array.from({ length: 100 }, (_, i) => ({ topic: 'auto', partition: 0, key: bytes(`k${i % 10}`), value: bytes(`${round}-${i}`) })));
  }
  const reader = await log.reader();
  const deadline = Date.now() + 30_000;
  let count = Infinity;
  while (Date.now() < deadline) {
    count = (await reader.read({ topic: 'auto', partition: 0 }, 0, 10_000)).length;
    if (count <= 10 + 500) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.ok(count <= 510, `the 2,000 updates were compacted in the background (${count} left)`);
  const latest = (await reader.read({ topic: 'auto', partition: 0 }, 0, 10_000)).filter((r) => text(r.key) === 'k3');
  t.equal(text(latest[latest.length - 1]!.value), '19-93', 'the latest value of a key is there');
});

t.test('background compaction waits its delay once a partition is due; close() ends the wait', async (t) => {
  // The same updates in a log without the delay and in one with a minute's: once the first
  // has compacted them, the second has not; and a close() that waited the minute out would
  // run into the test's timeout.
  const open = async (delayMs: number): Promise<LocalLogBackend> => {
    const log = await LocalLogBackend.open(await tempDir(t), { compactionMinDirtyRecords: 500, compactionBackgroundDelayMs: delayMs });
    await log.createTopic('later', 1, { compact: true });
    const producer = await log.producer();
    await producer.append(Array.from({ length: 2_000 }, (_, i) => ({ topic: 'later', partition: 0, key: bytes(`k${i % 10}`), value: bytes(`v${i}`) })));
    return log;
  };
  const stored = async (log: LocalLogBackend): Promise<number> => (await (await log.reader()).read({ topic: 'later', partition: 0 }, 0, 10_000)).length;
  const delayed = await open(60_000);
  const prompt = await open(0);
  t.teardown(() => prompt.close());
  const deadline = Date.now() + 30_000;
  while ((await stored(prompt)) > 10 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(await stored(prompt), 10, 'without a delay the updates were compacted in the background');
  t.equal(await stored(delayed), 2_000, 'with one, the due partition waits');
  await delayed.close();
  t.pass('close() returned without waiting for the delay');
});

t.test('compaction options out of range are refused, naming the option', async (t) => {
  const outOfRange = {
    compactionBackgroundShare: [0, -0.5, 1.5, Number.NaN, '0.5'],
    compactionBackgroundDelayMs: [-1, Number.NaN, Number.POSITIVE_INFINITY, '10'],
    compactionMaxKeysPerPass: [0, -1, 1.5, Number.NaN, '10'],
  };
  for (const [option, values] of Object.entries(outOfRange)) {
    for (const value of values) {
      await t.rejects(
        LocalLogBackend.open(await tempDir(t), { [option]: value as number }),
        { name: InvalidLogArgumentError.name, message: new RegExp(option) },
        `${option} ${typeof value === 'string' ? `'${value}' (a string)` : String(value)} is refused, naming the option`,
      );
    }
  }
});

t.test('background pauses: their length, compact() and close() during a throttled pass', async (t) => {
  t.equal(backgroundPauseMs(10, 0.25), 30, 'a quarter of the time: three times the step as pause');
  t.equal(backgroundPauseMs(10, 0.5), 10, 'half: a pause as long as the step');
  t.equal(backgroundPauseMs(10, 1), 0, 'all of it: no pause');
  t.equal(backgroundPauseMs(50, 0.01), MAX_STEP_PAUSE_MS, 'a pause is bounded however long the step took');

  // Thousands of one-record batches: a pass takes many steps, each followed by its pause.
  const tp = { topic: 'slow', partition: 0 };
  const openWithUpdates = async (dir: string, share: number): Promise<LocalLogBackend> => {
    const opened = await LocalLogBackend.open(dir, { compactionMinDirtyRecords: 500, compactionBackgroundShare: share, compactionBackgroundDelayMs: 0 });
    await opened.createTopic(tp.topic, 1, { compact: true });
    const producer = await opened.producer();
    for (let i = 0; i < 3_000; i++) await producer.append([{ ...tp, key: bytes(`k${i % 10}`), value: bytes(`v${i}`) }]);
    return opened;
  };
  const log = await openWithUpdates(await tempDir(t), 0.05);
  t.teardown(() => log.close());
  const stats = await log.compact('slow');
  const records = await readAll(await log.reader(), tp);
  t.same(
    records.map((r) => [text(r.key), text(r.value), r.offset]),
    Array.from({ length: 10 }, (_, k) => [`k${k}`, `v${2_990 + k}`, 2_990 + k]),
    'compact() during a throttled background pass leaves the latest record of each key at its offset',
  );
  t.ok(stats.passes >= 1, `compact() ran its own pass (${stats.passes})`);

  // A log closed while a throttled pass pauses (the longest pauses: share 0.001) closes,
  // and reopens with every record.
  const dir = await tempDir(t);
  const paused = await openWithUpdates(dir, 0.001);
  await paused.close();
  const reopened = await LocalLogBackend.open(dir);
  t.teardown(() => reopened.close());
  await reopened.compact('slow');
  t.same(
    (await readAll(await reopened.reader(), tp)).map((r) => [text(r.key), r.offset]),
    Array.from({ length: 10 }, (_, k) => [`k${k}`, 2_990 + k]),
    'closed during a pause, reopened: compacts to the latest record of each key',
  );
});

t.test('close() stops a running pass between steps; the log reopens whole and compacts on', async (t) => {
  const dir = await tempDir(t);
  const log = await LocalLogBackend.open(dir, { compactionMinDirtyRecords: 1e12 });
  await log.createTopic('cl', 1, { compact: true });
  const producer = await log.producer();
  const total = 200_000;
  for (let start = 0; start < total; start += 1_000) {
    const builder = new RecordBatchBuilder();
    for (let i = start; i < start + 1_000; i++) builder.add(1, bytes(`k${i % 500}`), bytes(`v${i}`));
    await producer.appendBatches([{ topic: 'cl', partition: 0, batch: builder.finish() }]);
  }
  const pass = log.compact().then(
    () => 'finished',
    (error: unknown) => (error as { code?: string }).code ?? String(error),
  );
  await new Promise((resolve) => setTimeout(resolve, 30));
  await log.close();
  const outcome = await pass;
  t.ok(outcome === 'LOG_CLOSED' || outcome === 'finished', `compact() ends with the log (${outcome})`);

  const reopened = await LocalLogBackend.open(dir);
  t.teardown(() => reopened.close());
  const reader = await reopened.reader();
  const check = async (what: string): Promise<void> => {
    const all = await readAll(reader, { topic: 'cl', partition: 0 });
    const offsets = all.map((r) => r.offset);
    t.ok(offsets.every((o, i) => i === 0 || o > offsets[i - 1]!), `${what}: offsets increase`);
    t.ok(all.every((r) => text(r.value) === `v${r.offset}` && text(r.key) === `k${r.offset % 500}`), `${what}: every record intact at its offset`);
    const latest = new Map(all.map((r) => [text(r.key), r.offset]));
    t.equal(latest.size, 500, `${what}: every key is there`);
    t.ok([...latest.values()].every((offset) => offset >= total - 500), `${what}: with its latest value`);
  };
  await check('after a stopped pass');
  await reopened.compact();
  await check('after compacting on');
  t.equal((await readAll(reader, { topic: 'cl', partition: 0 })).length, 500, 'one record per key');
});
