/**
 * The processing context acts for the record being processed: one context serves every
 * record of a partition, so what a pipeline does after an await inside `process` must
 * still be attributed to its own record (its state key, its output's default key and
 * timestamp). Records are read from a batch set, as the worker receives them, with values
 * and headers made views only when read.
 */
import t from 'tap';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyValueStore } from '../../workers/state/index.js';
import { PartitionProcessor } from '../../workers/partition-processor.js';
import { OutputBatches } from '../../workers/output-batches.js';
import { inputRecordsOf } from '../../workers/record-decoding.js';
import { encodeBatchSet, forEachRecord } from '../../shared/protocol/record-batch.js';
import { definePipeline } from '../../shared/pipeline/pipeline-definition.js';

const bytes = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

t.test('after an await in process, state and emit still act for the record being processed', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'weir-context-'));
  const pipeline = definePipeline({
    stores: { seen: {} },
    async process(record, context) {
      // A turn of the event loop before the context is used at all.
      await new Promise((resolve) => setImmediate(resolve));
      context.state('seen').set('value', record.value ?? null);
      await new Promise((resolve) => setImmediate(resolve));
      context.emit('out', { key: record.key ?? null, value: { offset: record.offset, header: record.headers['h'] ?? null } });
    },
  });
  const store = new KeyValueStore({ name: 'seen', streamId: 'events', baseDir: dir, hasChangelog: false });
  await store.assignPartition(0);
  t.teardown(() => store.close());
  const outputs = new OutputBatches({ out: 1 });
  const processor = new PartitionProcessor({
    partition: 0,
    pipeline,
    stores: new Map([['seen', store]]),
    changelogTopics: {},
    outputTopics: new Set(['out']),
    outputs,
    errorPolicy: 'stop',
  });
  const set = encodeBatchSet(
    ['a', 'b', 'c'].map((key, i) => ({
      offset: 10 + i,
      timestamp: 1_700_000_000_000 + i,
      key: bytes(key),
      value: i === 1 ? null : bytes({ n: i }),
      headers: [{ key: 'h', value: new TextEncoder().encode(`header-${i}`) }],
    })),
  );
  await processor.process(inputRecordsOf(set, 'events', 0));

  const emitted: { key: string; value: unknown; timestamp: number }[] = [];
  for (const batch of outputs.drain()) {
    forEachRecord(new Uint8Array(batch.buffer), 0, 0, (r) =>
      emitted.push({ key: new TextDecoder().decode(r.key!), value: JSON.parse(new TextDecoder().decode(r.value!)), timestamp: r.timestamp }),
    );
  }
  t.same(
    emitted,
    [
      { key: '"a"', value: { offset: 10, header: 'header-0' }, timestamp: 1_700_000_000_000 },
      { key: '"b"', value: { offset: 11, header: 'header-1' }, timestamp: 1_700_000_000_001 },
      { key: '"c"', value: { offset: 12, header: 'header-2' }, timestamp: 1_700_000_000_002 },
    ],
    "each output has its own record's key and timestamp",
  );
  await processor.prepare();
  await processor.flush(new Map());
  const partition = store.partitions.get(0)!;
  const check = partition.begin();
  t.same(await check.asState('a').getAsync('value'), { n: 0 }, "record a's state");
  t.equal(await check.asState('b').getAsync('value'), null, 'record b (a null value) wrote null under its own key');
  t.same(await check.asState('c').getAsync('value'), { n: 2 }, "record c's state");
});
