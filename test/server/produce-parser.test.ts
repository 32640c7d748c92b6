/**
 * The produce parser thread (runtime/server/produce-parser.ts): bodies encoded on a
 * thread of its own answer as `encodeRecordsBody` does in this thread, bad lines reject
 * with the same InputLineError, requests in parallel each get their own answer, and a
 * closed parser refuses work.
 */
import t from 'tap';
import { ProduceParser } from '../../runtime/server/produce-parser.js';
import { encodeRecordsBody } from '../../runtime/server/produce-batches.js';
import { InputLineError } from '../../runtime/cli/cli-errors.js';
import { ProduceParserError } from '../../shared/errors/server-errors.js';

const NOW = 1_700_000_000_000;
const body = (n: number, offset = 0): Buffer =>
  Buffer.from(Array.from({ length: n }, (_, i) => `${JSON.stringify({ key: `k${(i + offset) % 7}`, value: { n: i + offset } })}\n`).join(''));

const plain = (encoded: Awaited<ReturnType<typeof encodeRecordsBody>>): unknown => ({
  ...encoded,
  batches: encoded.batches.map((b) => ({ partition: b.partition, bytes: [...b.batch] })),
});

t.test('encodes on its thread what encodeRecordsBody encodes here', async (t) => {
  const parser = new ProduceParser();
  t.teardown(() => parser.close());
  const input = body(2500);
  const remote = await parser.parse(input, 4, NOW);
  t.same(plain(remote), plain(await encodeRecordsBody(input, 4, NOW)));
  t.equal(remote.count, 2500);
  t.equal(input.byteLength, body(2500).byteLength, 'the caller keeps its body');

  const unkeyed = Buffer.from('{"value":1}\n{"key":"a","value":2}\n');
  t.same(plain(await parser.parse(unkeyed, 4, NOW)), plain(await encodeRecordsBody(unkeyed, 4, NOW)));
});

t.test('requests in parallel each get their own answer; a bad line rejects only its request', async (t) => {
  const parser = new ProduceParser();
  t.teardown(() => parser.close());
  const bad = Buffer.from('{"key":"a","value":1}\n{"key":"a","value":2,"nope":1}\n');
  const results = await Promise.allSettled([parser.parse(body(100, 0), 3, NOW), parser.parse(bad, 3, NOW), parser.parse(body(50, 100), 3, NOW)]);
  t.equal(results[0].status === 'fulfilled' && results[0].value.count, 100);
  t.equal(results[2].status === 'fulfilled' && results[2].value.count, 50);
  const rejected = results[1].status === 'rejected' ? (results[1].reason as unknown) : undefined;
  t.ok(rejected instanceof InputLineError, 'an InputLineError, rebuilt on this side');
  t.match(rejected, { code: 'CLI_INPUT_LINE', line: 2, field: 'nope', message: 'input line 2: nope: unknown field (allowed: key, value, timestamp, headers); nothing was appended' });
});

t.test('a closed parser refuses work', async (t) => {
  const parser = new ProduceParser();
  await parser.parse(body(1), 1, NOW);
  await parser.close();
  await t.rejects(parser.parse(body(1), 1, NOW), ProduceParserError);
});
