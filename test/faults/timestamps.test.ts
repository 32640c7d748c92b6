/**
 * Hardening issue item 5: timestamps outside 0 … end of year 9999 are refused where they
 * enter (the log's append, `weir produce` input, `context.emit`), and a record that fails
 * inside window code follows the error policy, named by topic, partition and offset.
 */
import t from 'tap';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalLogBackend } from '../../shared/log/local/local-log-backend.js';
import { InvalidLogArgumentError } from '../../shared/errors/log-errors.js';
import { MAX_TIMESTAMP_MS } from '../../shared/timestamps.js';
import { parseInputLine } from '../../runtime/cli/input-record.js';
import { KeyValueStore } from '../../workers/state/index.js';
import { PartitionProcessor } from '../../workers/partition-processor.js';
import { OutputBatches } from '../../workers/output-batches.js';
import { toInputRecord } from '../../workers/record-decoding.js';
import { definePipeline, tumblingWindow, count, storeNames } from '../../shared/pipeline/pipeline-definition.js';

t.test('the local log refuses a timestamp past the end of year 9999, naming the field', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'weir-ts-'));
  const log = await LocalLogBackend.open(dir);
  t.teardown(() => log.close());
  await log.createTopic('events', 1);
  const producer = await log.producer();
  const record = { topic: 'events', key: null, value: null };
  await t.rejects(producer.append([{ ...record, timestamp: 2 ** 53 - 1 }]), InvalidLogArgumentError);
  await t.rejects(producer.append([{ ...record, timestamp: -5 }]), /timestamp/);
  t.same((await producer.append([{ ...record, timestamp: MAX_TIMESTAMP_MS }])).length, 1, 'the end of year 9999 is fine');
  await producer.close();
});

t.test('weir produce input: a timestamp of 2^53 - 1 is a line error naming the field', async (t) => {
  t.throws(() => parseInputLine(JSON.stringify({ key: 'a', value: 1, timestamp: 2 ** 53 - 1 }), 3, 'events'), /line 3.*timestamp.*end of year 9999/);
});

t.test('a record at 2^53 - 1 read from elsewhere (Kafka) follows the skip policy in window code, named by offset', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'weir-ts-'));
  const pipeline = definePipeline({
    windows: { clicks: tumblingWindow({ durationMs: 60_000, aggregate: { n: count() } }) },
  });
  const stores = new Map<string, KeyValueStore>();
  const storeName = storeNames(pipeline)[0]!;
  stores.set(storeName, new KeyValueStore({ name: storeName, streamId: 'events', baseDir: dir, hasChangelog: false }));
  await stores.get(storeName)!.assignPartition(0);
  t.teardown(() => stores.get(storeName)!.close());
  const skipped: string[] = [];
  const processor = new PartitionProcessor({
    partition: 0,
    pipeline,
    stores,
    changelogTopics: {},
    outputTopics: new Set(),
    outputs: new OutputBatches({}),
    errorPolicy: 'skip',
    onSkipped: (record, error) => skipped.push(`${record.topic}[${record.partition}]@${record.offset}: ${String(error)}`),
  });
  const key = new TextEncoder().encode('"user"');
  const at = (offset: number, timestamp: number) =>
    toInputRecord({ topic: 'events', partition: 0, offset, key, value: new TextEncoder().encode('1'), headers: [], timestamp });
  await processor.process([at(0, 1_700_000_000_000), at(1, 2 ** 53 - 1), at(2, 1_700_000_001_000)]);
  t.equal(skipped.length, 1, 'one record skipped');
  t.match(skipped[0], /^events\[0\]@1: /, 'named by topic, partition and offset');
  await processor.prepare();
});
