/**
 * The smaller faults of issue 12 (items 11 and 13), each as a user meets it: a
 * dead-letter loop, `bench --chart` over an existing file, input echoed in errors, a BOM,
 * invalid UTF-8, a `__proto__` header, a YAML alias bomb, ENOTDIR / ENOSPC / a held lock
 * as named errors without a stack trace, plain-text message keys in `state dump`, and
 * `topic dump --from-beginning`.
 */
import t from 'tap';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ConfigError, parseConfig } from '../../config/index.js';
import { checkChartPath } from '../../runtime/cli/commands/bench.js';
import { describeFailure, systemErrorOf } from '../../runtime/cli/cli-errors.js';
import { readInputLines } from '../../runtime/cli/input-lines.js';
import { describeJsonSyntaxError } from '../../runtime/cli/input-record.js';
import { toDumpObject } from '../../runtime/cli/output-record.js';
import { openBenchInput } from '../../bench/engine/bench-input.js';
import { BenchChartPathError } from '../../bench/engine/bench-errors.js';
import { dumpState } from '../../runtime/state-inspection.js';
import { splitStoredKey, splitWindowKey } from '../../workers/state/stored-keys.js';
import { encodeJson, encodeWindowKey, joinPrefixedKey } from '../../shared/codecs/index.js';
import { StorePartition, runTransaction } from '../../workers/state/index.js';
import { runWeir } from '../cli/fixtures/run-weir.js';

t.setTimeout(300_000);

const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');
const NO_STACK = /\n\s+at /;

async function jobDir(dir: string, extra: readonly string[] = []): Promise<string> {
  const config = join(dir, 'weir.yaml');
  await writeFile(
    config,
    ['appId: faults', 'log: { backend: local, path: ./log }', 'state: { dir: ./state }', 'input: { topics: [events] }', 'pipeline: ./pipeline.mjs', ...extra, ''].join('\n'),
  );
  await writeFile(join(dir, 'pipeline.mjs'), 'export default { stores: { counts: {} }, process() {} };\n');
  return config;
}

t.test('a dead-letter topic that is also an input topic is refused, naming errors.deadLetterTopic', async (t) => {
  const raw = { appId: 'a', input: { topics: ['events', 'more'] }, pipeline: 'p.js', errors: { policy: 'dead-letter', deadLetterTopic: 'more' } };
  const error = (() => {
    try {
      parseConfig(raw, 'weir.yaml', '/jobs', {});
    } catch (e) {
      return e;
    }
    return undefined;
  })() as ConfigError;
  t.type(error, ConfigError);
  t.same(error.issues.map((i) => i.path), ['errors.deadLetterTopic']);
  t.match(error.message, /errors\.deadLetterTopic: "more" is also an input topic/);
  const fromEnv = (() => {
    try {
      parseConfig({ ...raw, errors: { policy: 'dead-letter', deadLetterTopic: 'dead' } }, 'weir.yaml', '/jobs', { WEIR_ERRORS__DEAD_LETTER_TOPIC: 'events' });
    } catch (e) {
      return e as Error;
    }
    return undefined;
  })();
  t.match(fromEnv?.message, /errors\.deadLetterTopic: "events" is also an input topic/);
  const ok = parseConfig({ ...raw, output: { topics: ['dead'] }, errors: { policy: 'dead-letter', deadLetterTopic: 'dead' } }, 'w', '/jobs', {});
  t.equal(ok.errors.deadLetterTopic, 'dead', 'an output topic may take dead letters (no loop)');
});

t.test('weir bench --chart refuses an existing file or a non-.svg path without --force, before any run', async (t) => {
  const dir = t.testdir();
  const config = await jobDir(dir);
  const existing = join(dir, 'existing.svg');
  await writeFile(existing, '<svg>mine</svg>');
  const overwrite = await runWeir(['bench', '-c', config, '--records', '10', '--workers', '1', '--chart', existing]);
  t.equal(overwrite.code, 1);
  t.equal(overwrite.stderr, `weir: cannot write chart ${existing}: a file is already there; choose another path, or add --force to overwrite it\n`);
  t.equal(await readFile(existing, 'utf8'), '<svg>mine</svg>');

  const configBefore = await readFile(config, 'utf8');
  const onConfig = await runWeir(['bench', '-c', config, '--workers', '1', '--chart', config]);
  t.equal(onConfig.code, 1);
  t.match(onConfig.stderr, `weir: cannot write chart ${config}: it does not end in .svg; give a .svg path, or add --force`);
  t.equal(await readFile(config, 'utf8'), configBefore, 'the config is untouched');

  await checkChartPath(existing, true);
  await checkChartPath(join(dir, 'chart.SVG'), false);
  await checkChartPath(join(dir, 'chart.txt'), true);
  await mkdir(join(dir, 'dir.svg'));
  await t.rejects(checkChartPath(join(dir, 'dir.svg'), true), { constructor: BenchChartPathError, message: /it is a directory/ });
});

t.test('input errors never echo the content of the input', async (t) => {
  t.equal(describeJsonSyntaxError(catchJson('hunter2 is my password')), 'unexpected character');
  t.equal(describeJsonSyntaxError(catchJson('{"a": 1,')), 'expected double-quoted property name at column 9');
  t.equal(describeJsonSyntaxError(catchJson('{} secret')), 'unexpected non-whitespace character after JSON at column 4');

  const dir = t.testdir();
  const config = await jobDir(dir);
  const secretFile = join(dir, 'id_rsa');
  await writeFile(secretFile, '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n');
  const bench = await runWeir(['bench', '-c', config, '--workers', '1', '--input', secretFile]);
  t.equal(bench.code, 1);
  t.equal(bench.stderr, `weir: bench input file ${secretFile}: input line 1: invalid JSON (no number after minus sign at column 2); nothing was benchmarked\n`);
  t.notMatch(bench.stderr, /BEGIN|OPENSSH|b3Bl/);
  const produce = await runWeir(['produce', '-c', config, '--topic', 'events'], { input: '"hunter2-the-password"\n' });
  t.equal(produce.code, 1);
  t.equal(produce.stderr, 'weir: input line 1: expected a JSON object with "key" and "value", got a string; nothing was appended\n');
});

function catchJson(text: string): unknown {
  try {
    JSON.parse(text);
  } catch (error) {
    return error;
  }
  throw new Error('parsed');
}

t.test('input lines: a BOM is dropped, CRLF ends a line, invalid UTF-8 is marked per line', async (t) => {
  const bytes = Buffer.concat([utf8('\ufeff{"a":1}\r\n'), utf8('ok\n'), Buffer.from([0x62, 0xff, 0x61, 0x0a]), utf8('last')]);
  // One byte per chunk: the BOM and the lines are split across chunks.
  const lines = [];
  for await (const line of readInputLines(Readable.from([...bytes].map((b) => Buffer.from([b]))))) lines.push(line);
  t.same(lines, [
    { text: '{"a":1}', lineNumber: 1, validUtf8: true },
    { text: 'ok', lineNumber: 2, validUtf8: true },
    { text: 'b\ufffda', lineNumber: 3, validUtf8: false },
    { text: 'last', lineNumber: 4, validUtf8: true },
  ]);
  const onlyBom = [];
  for await (const line of readInputLines(Readable.from([Buffer.from([0xef, 0xbb, 0xbf])]))) onlyBom.push(line);
  t.same(onlyBom, []);
});

t.test('weir produce and bench --input: a BOM is fine, invalid UTF-8 gives a warning naming the line', async (t) => {
  const dir = t.testdir();
  const config = await jobDir(dir);
  const input = join(dir, 'input.jsonl');
  await writeFile(
    input,
    Buffer.concat([utf8('\ufeff{"key": "a", "value": 1}\n'), utf8('{"key": "b", "value": "caf'), Buffer.from([0xe9]), utf8('"}\n'), utf8('{"key": "c", "value": 3}\n')]),
  );
  const produced = await runWeir(['produce', '-c', config, '--topic', 'events', '--partitions', '1'], { inputFile: input });
  t.equal(produced.code, 0, produced.stderr);
  t.equal(produced.stdout, 'produced 3 records to events\n');
  t.equal(produced.stderr, 'weir: warning: input line 2 is not valid UTF-8; its invalid bytes were replaced by U+FFFD\n');
  const dumped = await runWeir(['topic', 'dump', '-c', config, '--topic', 'events']);
  t.same(
    dumped.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { value: unknown }).value),
    [1, 'caf\ufffd', 3],
  );

  const bench = await openBenchInput({ kind: 'file', path: input });
  t.equal(bench.records, 3, 'the BOM line is a record');
  t.same(bench.warnings, [`bench input file ${input} line 2 is not valid UTF-8; its invalid bytes were replaced by U+FFFD`]);
});

t.test('a header named __proto__ survives topic dump', async (t) => {
  const headers = [
    { key: '__proto__', value: utf8('p') },
    { key: 'constructor', value: utf8('c') },
  ];
  const dumped = JSON.stringify(toDumpObject({ topic: 't', partition: 0, offset: 0, key: null, value: null, timestamp: 1, headers }));
  t.match(dumped, '"headers":{"__proto__":"p","constructor":"c"}');

  const dir = t.testdir();
  const config = await jobDir(dir);
  await runWeir(['produce', '-c', config, '--topic', 'events'], { input: '{"key": "a", "value": 1, "headers": {"__proto__": "x", "trace": "y"}}\n' });
  const dump = await runWeir(['topic', 'dump', '-c', config, '--topic', 'events']);
  t.equal(dump.code, 0, dump.stderr);
  t.match(dump.stdout, '"headers":{"__proto__":"x","trace":"y"}');
});

t.test('a YAML alias bomb is a config error, not a stack trace', async (t) => {
  const dir = t.testdir();
  const bomb = join(dir, 'bomb.yaml');
  const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (const [i, name] of ['b', 'c', 'd', 'e', 'f'].entries()) {
    const previous = String.fromCharCode('a'.charCodeAt(0) + i);
    levels.push(`${name}: &${name} [${Array.from({ length: 10 }, () => `*${previous}`).join(', ')}]`);
  }
  await writeFile(bomb, `${levels.join('\n')}\nappId: x\n`);
  const result = await runWeir(['topic', 'list', '-c', bomb]);
  t.equal(result.code, 1);
  t.equal(result.stderr, `weir: config error in ${bomb}: invalid YAML: too many alias expansions (more than 100); expand the aliases by hand\n`);
});

t.test('ENOTDIR, ENOSPC and a held lock are named errors', async (t) => {
  const dir = t.testdir();
  await writeFile(join(dir, 'a-file'), 'not a directory');
  await mkdir(join(dir, 'job1'));
  const logUnderFile = await jobDir(join(dir, 'job1'));
  await writeFile(logUnderFile, (await readFile(logUnderFile, 'utf8')).replace('path: ./log', `path: ${join(dir, 'a-file', 'log')}`));
  const list = await runWeir(['topic', 'list', '-c', logUnderFile]);
  t.equal(list.code, 1);
  // Named by the CLI from ENOTDIR (NOT_A_DIRECTORY), or by the local log itself when it checks its path first.
  t.match(list.stderr, `weir: ${join(dir, 'a-file', 'log')} `);
  t.match(list.stderr, /a file, not a directory/);
  t.notMatch(list.stderr, /unexpected error/);
  t.notMatch(list.stderr, NO_STACK);

  await mkdir(join(dir, 'job2'));
  const stateUnderFile = await jobDir(join(dir, 'job2'));
  await writeFile(stateUnderFile, (await readFile(stateUnderFile, 'utf8')).replace('dir: ./state', `dir: ${join(dir, 'a-file', 'state')}`));
  await runWeir(['produce', '-c', stateUnderFile, '--topic', 'events', '--partitions', '1'], { input: '{"key": "a", "value": 1}\n' });
  const run = await runWeir(['run', '-c', stateUnderFile, '--until-idle', '--workers', '1']);
  t.equal(run.code, 1);
  t.match(run.stderr, /^weir: .*a-file\/state.* cannot be used: a part of it is a file, not a directory/m);
  t.notMatch(run.stderr, NO_STACK);

  // As Node and LevelDB (through classic-level) report them.
  const levelFull = Object.assign(new Error('IO error: /d/log/000009.log: No space left on device'), { code: 'LEVEL_IO_ERROR' });
  t.match(systemErrorOf(levelFull), { code: 'DISK_FULL', path: '/d/log/000009.log' });
  const nodeFull = Object.assign(new Error("ENOSPC: no space left on device, write '/d/x'"), { code: 'ENOSPC', path: '/d/x' });
  t.match(systemErrorOf(new Error('append failed', { cause: nodeFull })), { code: 'DISK_FULL', path: '/d/x' });
  const locked = new Error('Database failed to open', {
    cause: Object.assign(new Error('IO error: lock /d/state/app/counts/events/0/LOCK: already held by process'), { code: 'LEVEL_LOCKED' }),
  });
  t.match(systemErrorOf(Object.assign(locked, { code: 'LEVEL_DATABASE_NOT_OPEN' })), {
    code: 'DATABASE_LOCKED',
    path: '/d/state/app/counts/events/0/LOCK',
    message: /is locked by another process/,
  });
  t.match(systemErrorOf(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES', path: '/d' })), { code: 'ACCESS_DENIED' });
  t.equal(systemErrorOf(new TypeError('x is not a function')), undefined, 'a bug stays a bug');
  t.equal(describeFailure(new Error('plain')), 'plain');
});

t.test('weir state dump shows a plain-text message key as text', async (t) => {
  const key = (prefix: Uint8Array, stateKey: unknown): Uint8Array => joinPrefixedKey(prefix, encodeJson(stateKey));
  t.same(splitStoredKey(key(utf8('user-1'), 'count')), { key: 'user-1', stateKey: 'count' });
  t.same(splitStoredKey(key(utf8('a|b'), 'count')), { key: 'a|b', stateKey: 'count' }, 'the text may contain the separator');
  t.same(splitStoredKey(key(utf8('abc'), 'x|y')), { key: 'abc', stateKey: 'x|y' });
  t.same(splitStoredKey(key(encodeJson('user|1'), 'count')), { key: 'user|1', stateKey: 'count' }, 'JSON keys as before');
  t.same(splitStoredKey(key(Uint8Array.of(0xff, 0x00), 'count')).key, null, 'binary keys are not text');
  t.same(splitWindowKey(encodeWindowKey(utf8('sensor-1'), 1_000, 11_000)), { key: 'sensor-1', stateKey: { start: 1_000, end: 11_000 } });

  const dir = t.testdir();
  await writeFile(join(dir, 'pipeline.mjs'), 'export default { stores: { counts: {} }, process() {} };\n');
  const config = parseConfig({ appId: 'app', input: { topics: ['events'] }, pipeline: './pipeline.mjs' }, join(dir, 'w.yaml'), dir, {});
  const partition = await StorePartition.open(join(config.state.dir, 'app', 'counts', 'events', '0'));
  await runTransaction(partition, (tx) => tx.set('count', 3, utf8('user-1')));
  await partition.close();
  const entries = [];
  for await (const entry of dumpState(config, 'counts')) entries.push(entry);
  t.same(entries, [{ store: 'counts', partition: 0, key: 'user-1', stateKey: 'count', value: 3 }]);
});

t.test('topic dump always starts at the beginning; --from-beginning is not an option', async (t) => {
  const dir = t.testdir();
  const config = await jobDir(dir);
  await runWeir(['produce', '-c', config, '--topic', 'events', '--partitions', '1'], { input: '{"key": "a", "value": 1}\n' });
  const flag = await runWeir(['topic', 'dump', '-c', config, '--topic', 'events', '--from-beginning']);
  t.equal(flag.code, 1);
  t.match(flag.stderr, "error: unknown option '--from-beginning'");
  const help = await runWeir(['topic', 'dump', '--help']);
  t.match(help.stdout, /from the beginning \(low watermark\) of each\s+partition/);
  const dump = await runWeir(['topic', 'dump', '-c', config, '--topic', 'events']);
  t.equal(dump.stdout.trim().split('\n').length, 1, 'without any flag, from offset 0');
});
