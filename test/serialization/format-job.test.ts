/**
 * Formats in a running job on the local log: string keys and double values in, integer
 * counts out; state keyed by the plain key bytes; a record that does not deserialize
 * under each error policy.
 */
import t from 'tap';
import { runJob } from '../../runtime/job-runner.js';
import { WorkerFailedError } from '../../shared/errors/runtime-errors.js';
import { dumpState } from '../../runtime/state-inspection.js';
import { appendEvents, createJobFixture, readTopic, stateCounts } from '../runtime/job-fixture.js';
import { FORMAT_YAML, doubleBytes, expectedCounts, formatCountPipeline, lastOutputCounts, stringKeyedDoubles } from './fixtures/format-job.js';

const utf8 = new TextEncoder();


/** A fixture whose input and output sections carry the formats. */
async function fixture(dir: string, extraYaml = '', commitInterval = 5) {
  const f = await createJobFixture(dir, { partitions: 2, pipeline: formatCountPipeline('counts'), commitInterval, extraYaml });
  // The fixture writes `input: { topics: [...] }`; add the formats to both sections.
  const { readFile, writeFile } = await import('node:fs/promises');
  const text = await readFile(f.configPath, 'utf8');
  await writeFile(
    f.configPath,
    text
      .replace('input: { topics: [events] }', `input: { topics: [events], ${FORMAT_YAML.input} }`)
      .replace('output: { topics: [counts] }', `output: { topics: [counts], ${FORMAT_YAML.output} }`),
  );
  return f;
}

t.test('string keys and double values in, integer counts out; state keyed by the plain key bytes', async (t) => {
  const f = await fixture(t.testdir());
  const events = stringKeyedDoubles('events', 600, 12);
  await appendEvents(f, events, 2);
  const config = await f.config();
  const summary = await runJob(config, { untilIdle: true });
  t.equal(summary.records, events.length);
  t.same(await stateCounts(config), expectedCounts(events), 'weir state dump shows the string keys');
  t.same(lastOutputCounts(await readTopic(f.logPath, 'counts')), expectedCounts(events), 'outputs: string keys, 4-byte counts');
  const entries = [];
  for await (const entry of dumpState(config, 'counts')) entries.push(entry);
  t.match(entries[0], { key: /^user-\d+$/, stateKey: 'count' });
});

const badRecord = (offset: number) => ({ topic: 'events', partition: 0, key: utf8.encode('user-1'), value: new Uint8Array([1, 2, 3]), timestamp: 1_700_000_000_000 + offset });
const goodRecord = (offset: number) => ({ topic: 'events', partition: 0, key: utf8.encode('user-1'), value: doubleBytes(offset), timestamp: 1_700_000_000_000 + offset });

t.test('a record that does not deserialize, under stop: the run fails naming topic, partition, offset and format', async (t) => {
  const f = await fixture(t.testdir(), '', 9999);
  await appendEvents(f, [goodRecord(0), badRecord(1), goodRecord(2)], 2);
  const config = { ...(await f.config()), workers: 1 };
  const error = await runJob(config, { untilIdle: true }).then(() => undefined, (e: unknown) => e);
  t.type(error, WorkerFailedError);
  t.match((error as Error).message, /cannot deserialize the value of events\[0\] offset 1 as double: expected 8 bytes, got 3/);
  t.same(await stateCounts(config), new Map(), 'nothing flushed');
});

t.test('under skip: the record is skipped even though the pipeline would not have read it', async (t) => {
  const f = await fixture(t.testdir(), 'errors: { policy: skip }');
  await appendEvents(f, [goodRecord(0), badRecord(1), goodRecord(2)], 2);
  const config = { ...(await f.config()), workers: 1 };
  await runJob(config, { untilIdle: true });
  t.same(await stateCounts(config), new Map([['user-1', 2]]));
});

t.test('under dead-letter: the dead letter keeps the original bytes and names the format', async (t) => {
  const f = await fixture(t.testdir(), 'errors: { policy: dead-letter, deadLetterTopic: failed }');
  await appendEvents(f, [goodRecord(0), badRecord(1), goodRecord(2)], 2);
  const config = { ...(await f.config()), workers: 1 };
  await runJob(config, { untilIdle: true });
  t.same(await stateCounts(config), new Map([['user-1', 2]]));
  const dead = await readTopic(f.logPath, 'failed');
  t.equal(dead.length, 1);
  t.same([...dead[0]!.value!], [1, 2, 3], 'original value bytes');
  t.same(Buffer.from(dead[0]!.key!).toString(), 'user-1', 'original key bytes');
  const headers = Object.fromEntries(dead[0]!.headers.map((h) => [h.key, Buffer.from(h.value!).toString()]));
  t.equal(headers['weir.format'], 'string key, double value');
  t.match(headers['weir.error'], /events\[0\] offset 1 as double/);
  t.equal(headers['weir.source'], 'events[0]@1');
});

t.test('every format round-trips through the local log', async (t) => {
  const { LocalLogBackend } = await import('../../shared/log/local/local-log-backend.js');
  const { startSchemaRegistry } = await import('./fixtures/schema-registry-server.js');
  const { roundTripEveryFormat } = await import('./fixtures/log-round-trip.js');
  const dir = t.testdir();
  const registry = await startSchemaRegistry();
  const backend = await LocalLogBackend.open(`${dir}/log`);
  t.teardown(async () => {
    await backend.close();
    await registry.close();
  });
  await roundTripEveryFormat(t, backend, dir, { url: registry.url, maxRetries: 1, retryBackoffMs: 10, retryMaxBackoffMs: 50, requestTimeoutMs: 2000 }, async (format) => {
    const topic = `round-trip-${format}`;
    await backend.createTopic(topic, 1);
    return topic;
  });
});
