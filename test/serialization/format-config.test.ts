/** The format fields of the config: defaults, per-topic overrides, and errors naming the field. */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../config/index.js';
import { ConfigError } from '../../shared/errors/config-errors.js';

const base = { appId: 'app', pipeline: './p.mjs', input: { topics: ['a', 'b'] }, output: { topics: ['out'] } };

function problems(config: Record<string, unknown>, dir = '/tmp', env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(config, 'weir.yaml', dir, env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

t.test('every topic is JSON by default; section formats and per-topic overrides apply', async (t) => {
  t.equal(parseConfig(base, 'weir.yaml', '/tmp', {}).formats, undefined, 'no formats configured: JSON everywhere');
  t.same(parseConfig({ ...base, output: { topics: ['out'], keyFormat: 'string' } }, 'weir.yaml', '/tmp', {}).formats, {
    input: { a: { key: { type: 'json' }, value: { type: 'json' } }, b: { key: { type: 'json' }, value: { type: 'json' } } },
    output: { out: { key: { type: 'string' }, value: { type: 'json' } } },
  });
  const config = parseConfig(
    { ...base, input: { topics: ['a', 'b'], keyFormat: 'string', valueFormat: { type: 'double' }, formats: { b: { value: 'bytes' } } } },
    'weir.yaml',
    '/tmp',
    {},
  );
  t.same(config.formats?.input, { a: { key: { type: 'string' }, value: { type: 'double' } }, b: { key: { type: 'string' }, value: { type: 'bytes' } } });
});

t.test('registry formats: schema paths resolve against the config folder; credentials from ${ENV}', async (t) => {
  const dir = t.testdir({ 'order.avsc': '{"type":"record","name":"Order","fields":[]}' });
  const config = parseConfig(
    {
      ...base,
      output: { topics: ['out'], valueFormat: { type: 'avro', schema: './order.avsc', subject: 'orders-v' } },
      schemaRegistry: { url: 'http://localhost:8081/', username: '${SR_USER}', password: '${SR_PASS}' },
    },
    'weir.yaml',
    dir,
    { SR_USER: 'key', SR_PASS: 'secret' },
  );
  t.same(config.formats?.output['out']?.value, { type: 'avro', schema: join(dir, 'order.avsc'), subject: 'orders-v' });
  t.match(config.schemaRegistry, { url: 'http://localhost:8081', username: 'key', password: 'secret', maxRetries: 5 });
});

t.test('errors name the field', async (t) => {
  t.match(problems({ ...base, input: { topics: ['a'], valueFormat: 'avroo' } }), [/^input\.valueFormat\.type: expected "json", "string".*got "avroo"/]);
  t.same(problems({ ...base, input: { topics: ['a'], valueFormat: 'avro' } }), ['input.valueFormat: "avro" needs schemaRegistry (its records carry schema ids)']);
  t.same(problems({ ...base, output: { topics: ['out'], valueFormat: 'protobuf' }, schemaRegistry: { url: 'http://r:8081' } }), [
    'output.valueFormat.schema: required for writing protobuf: the schema to register or look up',
  ]);
  t.same(problems({ ...base, input: { topics: ['a'], formats: { c: { key: 'string' } } } }), ['input.formats.c: "c" is not one of input.topics (a)']);
  t.same(problems({ ...base, input: { topics: ['a'], keyFormat: { type: 'string', schema: './x' } } }), [
    'input.keyFormat.schema: only for avro, protobuf and json-schema, not string',
  ]);
  t.match(problems({ ...base, input: { topics: ['a'], valueFormat: { type: 'avro', schema: './missing.avsc' } }, schemaRegistry: { url: 'http://r' } }, '/tmp'), [
    /^input\.valueFormat\.schema: no schema file at \/tmp\/missing\.avsc$/,
  ]);
  t.match(problems({ ...base, schemaRegistry: { url: 'not a url' } }), [/^schemaRegistry\.url: /]);
  t.same(problems({ ...base, schemaRegistry: { url: 'http://r', password: '${NOPE}' } }), [
    'schemaRegistry.password: references environment variable NOPE, which is not set',
  ]);
  const dir = t.testdir({ 'x.proto': 'syntax = "proto3"; message X {}' });
  writeFileSync(join(dir, 'unused'), '');
  t.same(problems({ ...base, input: { topics: ['a'], valueFormat: { type: 'avro', message: 'X' } }, schemaRegistry: { url: 'http://r' } }, dir), [
    'input.valueFormat.message: only for protobuf',
  ]);
});
