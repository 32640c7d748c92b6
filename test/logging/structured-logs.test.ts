/**
 * Weir's own log lines (config `logging`, docs/config.md): by default (`auto`) the human
 * `weir: <message>` text on a terminal and JSON lines elsewhere; `format: json` prints one
 * JSON object per line with level, time, msg and the line's context (topic, partition,
 * worker), from the coordinator and from the worker threads; `level` drops the lines below it.
 */
import t from 'tap';
import { appendEvents, createJobFixture, FAILING_PIPELINE } from '../runtime/job-fixture.js';
import { runWeir } from '../cli/fixtures/run-weir.js';
import { loadConfig } from '../../config/index.js';
import { decideLogFormat } from '../../shared/logging/weir-log.js';

const encoder = new TextEncoder();
const keyed = (key: string, n: number) => ({ topic: 'events', key: encoder.encode(JSON.stringify(key)), value: encoder.encode(JSON.stringify({ n })) });

/** A run with a record the skip policy skips (worker line) and more workers than partitions (coordinator line). */
async function runWith(dir: string, logging: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> {
  const fixture = await createJobFixture(dir, {
    partitions: 1,
    pipeline: FAILING_PIPELINE,
    extraYaml: ['errors: { policy: skip }', 'workers: 2', logging].join('\n'),
  });
  await appendEvents(fixture, [keyed('key', 0), keyed('key', 1), keyed('key', 2), keyed('key', 3)], 1);
  return runWeir(['run', '-c', fixture.configPath, '--until-idle'], { logFormat: 'config', env });
}

interface Entry {
  readonly level: string;
  readonly time: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

function entriesOf(stderr: string): Entry[] {
  return stderr
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Entry);
}

const SKIPPED = 'worker 0: skipped events[0] offset 2: boom on the third record';
const WORKERS = 'workers = 2 but the input has 1 partitions; running 1 workers';

t.test('format: text prints the human lines', async (t) => {
  const run = await runWith(t.testdir(), 'logging: { format: text }');
  t.equal(run.code, 0, run.stderr);
  const lines = run.stderr.trim().split('\n');
  t.ok(lines.includes(`weir: ${SKIPPED}`), 'the worker\'s line');
  t.ok(lines.includes(`weir: ${WORKERS}`), 'the coordinator\'s line');
  t.ok(lines.some((l) => /^weir: serving on http:\/\/127\.0\.0\.1:\d+ \(docs\/server\.md\)$/.test(l)), 'the server line');
  t.ok(lines.every((l) => l.startsWith('weir: ')), 'nothing but weir: lines');
});

t.test('the default (auto) on a stderr that is not a terminal is JSON lines, from the workers too', async (t) => {
  const run = await runWith(t.testdir(), '');
  t.equal(run.code, 0, run.stderr);
  const entries = entriesOf(run.stderr);
  t.match(entries.find((e) => e.msg === SKIPPED), { level: 'warn', worker: 0 }, 'a worker thread\'s line');
  t.match(entries.find((e) => e.msg === WORKERS), { level: 'info' }, 'a coordinator line');
});

t.test('WEIR_LOGGING__FORMAT overrides the config, as for every field', async (t) => {
  const run = await runWith(t.testdir(), 'logging: { format: json }', { WEIR_LOGGING__FORMAT: 'text' });
  t.equal(run.code, 0, run.stderr);
  t.ok(run.stderr.trim().split('\n').includes(`weir: ${SKIPPED}`), 'text lines');
});

t.test('auto is text on a terminal and JSON anywhere else; text and json are kept', async (t) => {
  t.same(decideLogFormat({ level: 'info', format: 'auto' }, { isTTY: true }), { level: 'info', format: 'text' });
  t.same(decideLogFormat({ level: 'warn', format: 'auto' }, { isTTY: false }), { level: 'warn', format: 'json' });
  t.same(decideLogFormat({ level: 'info', format: 'auto' }, {}), { level: 'info', format: 'json' });
  t.same(decideLogFormat({ level: 'info', format: 'json' }, { isTTY: true }), { level: 'info', format: 'json' });
  t.same(decideLogFormat({ level: 'info', format: 'text' }, { isTTY: false }), { level: 'info', format: 'text' });
});

t.test('format: json prints one JSON object per line with level, time, msg and context', async (t) => {
  const run = await runWith(t.testdir(), 'logging: { format: json }');
  t.equal(run.code, 0, run.stderr);
  const entries = entriesOf(run.stderr);
  t.ok(entries.every((e) => typeof e.level === 'string' && Number.isFinite(e.time) && typeof e.msg === 'string'), 'level, time and msg on every line');
  t.ok(entries.every((e) => Math.abs(e.time - Date.now()) < 10 * 60_000), 'time in epoch milliseconds');
  t.match(entries.find((e) => e.msg === SKIPPED), { level: 'warn', topic: 'events', partition: 0, worker: 0 }, 'a worker thread\'s line with its context');
  t.match(entries.find((e) => e.msg === WORKERS), { level: 'info' }, 'a coordinator line');
  t.ok(entries.some((e) => e.level === 'info' && e.msg.startsWith('serving on http://')), 'the server line');
});

t.test('level drops the lines below it', async (t) => {
  const run = await runWith(t.testdir(), 'logging: { level: warn, format: json }');
  t.equal(run.code, 0, run.stderr);
  const entries = run.stderr.trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string });
  t.same(entries.map((e) => e.msg), [SKIPPED], 'only the warning');
});

t.test('a config error names the logging field', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { extraYaml: 'logging: { format: yaml }' });
  await t.rejects(loadConfig(fixture.configPath), /logging\.format/);
  const failed = await runWeir(['run', '-c', fixture.configPath, '--until-idle'], { logFormat: 'config' });
  t.equal(failed.code, 1);
  t.match(entriesOf(failed.stderr), [{ level: 'error', msg: /logging\.format/, code: 'CONFIG_INVALID' }], 'reported as a JSON line (auto, before any config)');
  const loud = await createJobFixture(t.testdir(), { extraYaml: 'logging: { level: loud }' });
  const asText = await runWeir(['run', '-c', loud.configPath, '--until-idle'], { env: { WEIR_LOGGING__FORMAT: 'text' }, logFormat: 'config' });
  t.equal(asText.code, 1);
  t.match(asText.stderr, /^weir: .*logging\.level/, 'a weir: line when WEIR_LOGGING__FORMAT asks for text');
});
