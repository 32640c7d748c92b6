/**
 * The server of a running job on the local log: address file, health, live produce with
 * `weir produce`'s validation (400 naming line and field, 413 over the limit, nothing
 * appended either way), the produced records processed by the job, tokens.
 */
import t from 'tap';
import { readFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import { appendEvents, createJobFixture, stateCounts, readTopic } from '../runtime/job-fixture.js';
import { jsonLines, startServedJob, waitFor } from './served-job.js';
import { parseConfig, ConfigError } from '../../config/index.js';

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

t.test('produce during a run: processed by the job; bad lines and big bodies append nothing', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { commitInterval: 0.2, extraYaml: 'server: { bodyLimit: 4096 }' });
  const config = await fixture.config();
  await appendEvents(fixture, []); // the input topic, empty
  const job = await startServedJob(config);
  const addressFile = join(fixture.logPath, 'weir-server.json');
  t.same(JSON.parse(await readFile(addressFile, 'utf8')), { url: job.url, pid: process.pid, appId: 'test-count' }, 'address file in the log directory');
  t.match(job.url, /^http:\/\/127\.0\.0\.1:\d+$/, 'loopback, a port picked by the OS');

  t.equal((await fetch(`${job.url}/healthz`)).status, 200);
  const good = [
    { key: 'a', value: { n: 1 } },
    { key: 'b', value: { n: 2 } },
    { key: 'a', value: { n: 3 } },
  ];
  const ok = await fetch(`${job.url}/topics/events/records`, { method: 'POST', body: jsonLines(good) });
  t.equal(ok.status, 200);
  t.same(await ok.json(), { topic: 'events', produced: 3, warnings: [] });

  const bad = await fetch(`${job.url}/topics/events/records`, {
    method: 'POST',
    body: `${JSON.stringify({ key: 'a', value: 1 })}\n${JSON.stringify({ key: 'a' })}\n`,
  });
  t.equal(bad.status, 400);
  t.same(await bad.json(), {
    error: 'CLI_INPUT_LINE',
    message: 'input line 2: value: required (write null for a null value); nothing was appended',
    line: 2,
    field: 'value',
  });
  const notJson = await fetch(`${job.url}/topics/events/records`, { method: 'POST', body: '{"key": 1, "value": 2}\n{oops\n' });
  t.equal(notJson.status, 400);
  t.match(await notJson.json(), { error: 'CLI_INPUT_LINE', line: 2 });

  const big = await fetch(`${job.url}/topics/events/records`, {
    method: 'POST',
    body: jsonLines(Array.from({ length: 200 }, (_, i) => ({ key: 'big', value: { n: i } }))),
  });
  t.equal(big.status, 413);
  t.match(await big.json(), { error: 'BODY_TOO_LARGE', limit: 4096 });

  const badPartitions = await fetch(`${job.url}/topics/events/records?partitions=0`, { method: 'POST', body: jsonLines(good) });
  t.equal(badPartitions.status, 400);
  t.match(await badPartitions.json(), { error: 'QUERY_BAD_ARGUMENT', parameter: 'partitions' });
  const mismatch = await fetch(`${job.url}/topics/events/records?partitions=3`, { method: 'POST', body: jsonLines(good) });
  t.equal(mismatch.status, 409, 'the topic has 4 partitions');
  t.match(await mismatch.json(), { error: 'LOG_TOPIC_PARTITION_COUNT_MISMATCH' });

  const notFound = await fetch(`${job.url}/nope`);
  t.equal(notFound.status, 404);
  t.match(await notFound.json(), { error: 'NOT_FOUND' });

  await waitFor(async () => (await fetch(`${job.url}/readyz`)).status === 200, 'readiness');
  const more = await fetch(`${job.url}/topics/events/records`, { method: 'POST', body: jsonLines([{ key: 'b', value: { n: 4 } }]) });
  t.equal(more.status, 200);
  // weir produce's input rules: a leading BOM and CRLF line ends are fine; a line that is
  // not valid UTF-8 is appended with U+FFFD and named in a warning.
  const bom = await fetch(`${job.url}/topics/events/records`, {
    method: 'POST',
    body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"key":"c","value":1}\r\n\r\n')]),
  });
  t.same(await bom.json(), { topic: 'events', produced: 1, warnings: [] });
  const invalid = await fetch(`${job.url}/topics/events/records`, {
    method: 'POST',
    body: Buffer.concat([Buffer.from('{"key":"c","value":"'), Buffer.from([0xff]), Buffer.from('"}')]),
  });
  t.same(await invalid.json(), {
    topic: 'events',
    produced: 1,
    warnings: ['request body line 1 is not valid UTF-8; its invalid bytes were replaced by U+FFFD'],
  });

  const summary = await job.stop();
  t.equal(summary.records, 6, 'the job processed exactly the appended records');
  t.notOk(await exists(addressFile), 'address file removed on exit');
  t.same(await stateCounts(config), new Map([['a', 2], ['b', 2], ['c', 2]]));
  const events = await readTopic(fixture.logPath, 'events');
  t.equal(events.length, 6, 'nothing of the refused requests was appended');
  const outputs = await readTopic(fixture.logPath, 'counts');
  t.equal(outputs.length, 6, 'one output per processed record');
});

t.test('a token guards everything but the probes; a wrong one gets 401', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { extraYaml: 'server: { token: "${WEIR_TEST_TOKEN}" }' });
  const config = await fixture.config({ WEIR_TEST_TOKEN: 's3cret-token' });
  await appendEvents(fixture, []);
  t.equal(config.server.token, 's3cret-token', 'resolved from the environment');
  const job = await startServedJob(config);
  const body = jsonLines([{ key: 'a', value: 1 }]);
  const none = await fetch(`${job.url}/topics/events/records`, { method: 'POST', body });
  t.equal(none.status, 401);
  t.match(await none.json(), { error: 'UNAUTHORIZED' });
  const wrong = await fetch(`${job.url}/topics/events/records`, { method: 'POST', body, headers: { authorization: 'Bearer s3cret-tokem' } });
  t.equal(wrong.status, 401);
  const right = await fetch(`${job.url}/topics/events/records`, { method: 'POST', body, headers: { authorization: 'Bearer s3cret-token' } });
  t.equal(right.status, 200);
  t.equal((await fetch(`${job.url}/healthz`)).status, 200, 'probes need no token');
  await job.stop();
  t.equal((await readTopic(fixture.logPath, 'events')).length, 1, 'only the authorized request appended');
});

t.test('a port already taken: the job does not start, the error names the address', async (t) => {
  const dir = t.testdir({ first: {}, second: {} });
  const first = await createJobFixture(join(dir, 'first'), {});
  await appendEvents(first, []);
  const job = await startServedJob(await first.config());
  const port = Number(new URL(job.url).port);
  const second = await createJobFixture(join(dir, 'second'), { extraYaml: `server: { port: ${port} }` });
  await appendEvents(second, []);
  const { runJob } = await import('../../runtime/job-runner.js');
  await t.rejects(runJob(await second.config(), { untilIdle: true }), {
    code: 'SERVER_LISTEN_FAILED',
    message: new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\)`),
  });
  await job.stop();
});

t.test('config: a non-loopback host needs a token; the token comes from the environment and is redacted', async (t) => {
  const base = { appId: 'a', input: { topics: ['in'] }, pipeline: './p.js' };
  t.throws(() => parseConfig({ ...base, server: { host: '0.0.0.0' } }, 'weir.yaml', '/jobs', {}), ConfigError);
  try {
    parseConfig({ ...base, server: { host: '0.0.0.0' } }, 'weir.yaml', '/jobs', {});
  } catch (error) {
    t.match((error as Error).message, /server\.token/);
  }
  t.throws(() => parseConfig({ ...base, server: { host: '0.0.0.0', token: '${UNSET_TOKEN}' } }, 'weir.yaml', '/jobs', {}), /server\.token.*UNSET_TOKEN/s);
  const config = parseConfig({ ...base, server: { host: '0.0.0.0', token: '${T}' } }, 'weir.yaml', '/jobs', { T: 'x' });
  t.equal(config.server.token, 'x');
  const { redactConfig } = await import('../../config/index.js');
  t.equal(redactConfig(config).server.token, '***');
  t.equal(parseConfig({ ...base, server: { host: 'localhost' } }, 'weir.yaml', '/jobs', {}).server.host, 'localhost', 'loopback needs no token');
});
