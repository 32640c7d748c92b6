/**
 * Issue 10 item 6: a compacted changelog makes recovery read about as many records as
 * the state holds keys, not as many as it ever had updates.
 */
import t from 'tap';
import { runJob } from '../../runtime/job-runner.js';
import { changelogTopicName, streamIdOf } from '../../runtime/changelog-topics.js';
import { LocalLogBackend } from '../../shared/log/local/local-log-backend.js';
import { RecordBatchBuilder } from '../../shared/protocol/record-batch.js';
import { encodeJson, joinPrefixedKey } from '../../shared/codecs/index.js';
import { createJobFixture, stateCounts } from './job-fixture.js';

const KEYS = 1_000;
const UPDATES = 1_000_000;

t.test('a changelog of 1 M updates over 1 k keys recovers ~1 k records after compaction', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { partitions: 1 });
  const config = { ...(await fixture.config()), workers: 1 };
  const changelog = changelogTopicName(config.appId, streamIdOf(config.input.topics), 'counts');

  const backend = await LocalLogBackend.open(fixture.logPath);
  await backend.createTopic('events', 1);
  await backend.createTopic(changelog, 1, { compact: true });
  const producer = await backend.producer();
  const cf = [{ key: '__column_family__', value: new TextEncoder().encode('default') }];
  const storedKeys = Array.from({ length: KEYS }, (_, k) => joinPrefixedKey(encodeJson(`key-${k}`), encodeJson('count')));
  const expected = new Map<string, number>();
  for (let base = 0; base < UPDATES; base += 10_000) {
    const builder = new RecordBatchBuilder(256 * 1024);
    for (let i = base; i < base + 10_000; i++) {
      const k = (i * 7919) % KEYS;
      builder.add(0, storedKeys[k]!, encodeJson(i), cf);
      expected.set(`key-${k}`, i);
    }
    await producer.appendBatches([{ topic: changelog, partition: 0, batch: builder.finish() }]);
  }
  await producer.close();
  // Compaction also runs in the background while the changelog grows; compact() finishes it.
  await backend.compact(changelog);
  const reader = await backend.reader();
  const left = await reader.read({ topic: changelog, partition: 0 }, 0, UPDATES);
  await reader.close();
  t.equal(left.length, KEYS, 'one record per key is left');
  t.equal((await backend.watermarks({ topic: changelog, partition: 0 })).high, UPDATES, 'offsets are kept');
  await backend.close();

  const summary = await runJob(config, { untilIdle: true });
  t.equal(summary.recoveredRecords, KEYS, 'recovery replayed one record per key');
  t.same(await stateCounts(config), expected, 'and the state holds the latest value of every key');
});
