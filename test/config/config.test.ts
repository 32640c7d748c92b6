import t, { type Test } from 'tap';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  ConfigFileNotFoundError,
  CONFIG_DEFAULTS,
  loadConfig,
  parseConfig,
  redactConfig,
  type WeirConfig,
} from '../../config/index.js';

const minimal = { appId: 'orders-app', input: { topics: ['orders'] }, pipeline: './pipeline.js' };

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The ConfigError thrown by `fn`, or a failed assertion. */
function configErrorOf(t: Test, fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    t.type(error, ConfigError);
    return error as ConfigError;
  }
  t.fail('expected a ConfigError');
  throw new Error('unreachable');
}


t.test('defaults apply to every optional field', async (t) => {
  const config = parseConfig(minimal, '/jobs/weir.yaml', '/jobs', {});
  t.same(config, {
    appId: 'orders-app',
    log: { backend: 'local', path: '/jobs/data/log' },
    state: { dir: '/jobs/state', changelog: true, openMaxRetries: 10, openRetryBackoffMs: 3000, onCorruptedRecreate: true, ttlMaxEvictionsPerCheckpoint: 60_000 },
    processingGuarantee: 'at-least-once',
    commitInterval: 30,
    commitEvery: 0,
    processingTimeout: 300,
    shutdownTimeout: 30,
    limits: {
      workerInFlightBytes: 4 * 1024 * 1024,
      pendingOutputBytes: 8 * 1024 * 1024,
      checkpointBytes: 64 * 1024 * 1024,
      workerMaxOldGenerationMb: 1024,
    },
    workers: availableParallelism(),
    input: { topics: ['orders'], autoOffsetReset: 'earliest', sourceOffsetOutOfRange: 'earliest' },
    output: { topics: [] },
    pipeline: '/jobs/pipeline.js',
    errors: { policy: 'stop' },
    partitions: 8,
    server: { enabled: true, host: '127.0.0.1', port: 0, bodyLimit: 16 * 1024 * 1024, maxLagRecords: 1_000_000, backpressureWaitMs: 5000 },
    logging: { level: 'info', format: 'auto' },
  } satisfies WeirConfig);
  t.equal(CONFIG_DEFAULTS.commitInterval, 30);
});

t.test('exactly-once defaults to a 100 ms commit interval (outputs become visible at the commit); a given interval wins', async (t) => {
  const eos = parseConfig({ ...minimal, processingGuarantee: 'exactly-once' }, '/jobs/weir.yaml', '/jobs', {});
  t.equal(eos.commitInterval, 0.1);
  const given = parseConfig({ ...minimal, processingGuarantee: 'exactly-once', commitInterval: 2 }, '/jobs/weir.yaml', '/jobs', {});
  t.equal(given.commitInterval, 2);
});

t.test('the TTL sweep budget, unset, sustains 2,000 expirations/s per partition at any interval; a given budget wins', async (t) => {
  const budget = (extra: object): number => parseConfig({ ...minimal, ...extra }, '/jobs/weir.yaml', '/jobs', {}).state.ttlMaxEvictionsPerCheckpoint;
  t.equal(budget({}), 60_000, 'at-least-once, 30 s: 60,000 per checkpoint');
  t.equal(budget({ commitInterval: 5 }), 10_000, '5 s: the reference\'s 10,000');
  t.equal(budget({ processingGuarantee: 'exactly-once' }), 10_000, 'exactly-once, 0.1 s: never below 10,000');
  t.equal(budget({ commitInterval: 0 }), 10_000, 'after every batch: 10,000');
  t.equal(budget({ commitInterval: 45.5 }), 91_000);
  t.equal(budget({ state: { ttlMaxEvictionsPerCheckpoint: 500 } }), 500, 'a given budget is used as it is');
});

t.test('limits, processingTimeout and shutdownTimeout are validated, naming the field', async (t) => {
  const error = configErrorOf(t, () => parseConfig({ ...minimal, limits: { workerInFlightBytes: 10 } }, '/jobs/weir.yaml', '/jobs', {}));
  t.match(error.message, /limits\.workerInFlightBytes/);
  const heap = configErrorOf(t, () => parseConfig({ ...minimal, limits: { workerMaxOldGenerationMb: 8 } }, '/jobs/weir.yaml', '/jobs', {}));
  t.match(heap.message, /limits\.workerMaxOldGenerationMb/);
  const young = parseConfig(minimal, '/jobs/weir.yaml', '/jobs', { WEIR_LIMITS__WORKER_MAX_YOUNG_GENERATION_MB: '8' });
  t.equal(young.limits.workerMaxYoungGenerationMb, 8, 'settable from the environment');
  const timeout = configErrorOf(t, () => parseConfig({ ...minimal, processingTimeout: 0 }, '/jobs/weir.yaml', '/jobs', {}));
  t.match(timeout.message, /processingTimeout/);
});

t.test('YAML file: relative paths resolve against the config file directory, not the cwd', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'jobs'));
  const file = join(dir, 'jobs', 'weir.yaml');
  await writeFile(
    file,
    [
      'appId: clicks',
      'log: { backend: local, path: ../shared-log }',
      'state: { dir: ./st, changelog: false }',
      'input: { topics: [clicks], autoOffsetReset: latest }',
      'output: { topics: [counts] }',
      'pipeline: lib/pipe.js',
      'processingGuarantee: exactly-once',
      'commitInterval: 0.5',
      'commitEvery: 100',
      'workers: 3',
      'partitions: 4',
    ].join('\n'),
  );
  const config = await loadConfig(file, {});
  t.same(config.log, { backend: 'local', path: join(dir, 'shared-log') });
  t.equal(config.state.dir, join(dir, 'jobs', 'st'));
  t.equal(config.state.changelog, false);
  t.equal(config.pipeline, join(dir, 'jobs', 'lib', 'pipe.js'));
  t.same(config.input, { topics: ['clicks'], autoOffsetReset: 'latest', sourceOffsetOutOfRange: 'earliest' });
  t.same(config.output.topics, ['counts']);
  t.equal(config.processingGuarantee, 'exactly-once');
  t.equal(config.commitInterval, 0.5);
  t.equal(config.commitEvery, 100);
  t.equal(config.workers, 3);
  t.equal(config.partitions, 4);
});

t.test('JSON file is read by its extension', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'weir.json');
  await writeFile(file, JSON.stringify({ ...minimal, workers: 2 }));
  const config = await loadConfig(file, {});
  t.equal(config.workers, 2);
  t.equal(config.pipeline, join(dir, 'pipeline.js'));
});

t.test('a missing file is named', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'nope.yaml');
  const error = await loadConfig(file, {}).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(error, ConfigFileNotFoundError);
  t.equal((error as ConfigFileNotFoundError).path, file);
  t.equal((error as Error).message, `config file not found: ${file}`);
});

t.test('syntax errors and unsupported extensions name the file', async (t) => {
  const dir = await tempDir(t);
  const yaml = join(dir, 'bad.yaml');
  await writeFile(yaml, 'appId: [unclosed\n');
  await t.rejects(loadConfig(yaml, {}), { name: 'ConfigError', message: new RegExp(`config error in ${yaml}: invalid YAML`) });
  const json = join(dir, 'bad.json');
  await writeFile(json, '{"appId": ');
  await t.rejects(loadConfig(json, {}), { name: 'ConfigError', message: new RegExp(`config error in ${json}: invalid JSON`) });
  const toml = join(dir, 'weir.toml');
  await writeFile(toml, 'appId = "x"');
  await t.rejects(loadConfig(toml, {}), { message: /unsupported file extension "\.toml"/ });
});

t.test('a wrong type names the field, what was expected and what was found', async (t) => {
  const error = configErrorOf(t, () => parseConfig({ ...minimal, workers: 'four' }, '/x/weir.yaml', '/x', {}));
  t.equal(error.message, 'config error in /x/weir.yaml: workers: expected a number, got "four"');
  t.same(error.issues, [{ path: 'workers', message: 'expected a number, got "four"' }]);

  const nested = configErrorOf(t, () =>
    parseConfig({ ...minimal, state: { changelog: 'yes' } }, '/x/weir.yaml', '/x', {}),
  );
  t.match(nested.message, 'state.changelog: expected true or false, got "yes"');

  const notInt = configErrorOf(t, () => parseConfig({ ...minimal, commitEvery: 2.5 }, 's', '/x', {}));
  t.match(notInt.message, 'commitEvery: expected an integer, got 2.5');

  const tooSmall = configErrorOf(t, () => parseConfig({ ...minimal, workers: 0 }, 's', '/x', {}));
  t.match(tooSmall.message, 'workers: expected a value ≥ 1, got 0');

  const listItem = configErrorOf(t, () =>
    parseConfig({ ...minimal, log: { backend: 'kafka', brokers: ['a:9092', 7] } }, 's', '/x', {}),
  );
  t.match(listItem.message, 'log.brokers[1]: expected a string, got 7');
});

t.test('an unknown backend names log.backend and the allowed values', async (t) => {
  const error = configErrorOf(t, () =>
    parseConfig({ ...minimal, log: { backend: 'kafak' } }, '/x/weir.yaml', '/x', {}),
  );
  t.equal(error.message, 'config error in /x/weir.yaml: log.backend: expected "local" or "kafka", got "kafak"');
});

t.test('an enum field names the allowed values', async (t) => {
  const error = configErrorOf(t, () => parseConfig({ ...minimal, processingGuarantee: 'once' }, 's', '/x', {}));
  t.match(error.message, 'processingGuarantee: expected "at-least-once" or "exactly-once", got "once"');
});

t.test('required fields and empty topic lists are reported', async (t) => {
  const error = configErrorOf(t, () => parseConfig({ input: { topics: [] } }, 's', '/x', {}));
  t.match(error.message, 'appId: required, expected a string');
  t.match(error.message, 'input.topics: expected at least 1 item(s)');
  t.match(error.message, 'pipeline: required, expected a string');
  const badTopic = configErrorOf(t, () => parseConfig({ ...minimal, output: { topics: ['has space'] } }, 's', '/x', {}));
  t.match(badTopic.message, 'output.topics[0]: expected a topic name');
});

t.test('unknown keys are errors naming them, at any level', async (t) => {
  const top = configErrorOf(t, () => parseConfig({ ...minimal, wokers: 2 }, 's', '/x', {}));
  t.match(top.message, 'unknown key "wokers"');
  const nested = configErrorOf(t, () =>
    parseConfig({ ...minimal, log: { backend: 'local', pth: './x' } }, 's', '/x', {}),
  );
  t.match(nested.message, 'log: unknown key "pth"');
  const kafkaField = configErrorOf(t, () =>
    parseConfig({ ...minimal, log: { backend: 'local', brokers: ['a:1'] } }, 's', '/x', {}),
  );
  t.match(kafkaField.message, 'log: unknown key "brokers"');
});

t.test('dead-letter policy requires errors.deadLetterTopic', async (t) => {
  const error = configErrorOf(t, () => parseConfig({ ...minimal, errors: { policy: 'dead-letter' } }, 's', '/x', {}));
  t.same(error.issues, [{ path: 'errors.deadLetterTopic', message: 'required when errors.policy is "dead-letter"' }]);
  const ok = parseConfig({ ...minimal, errors: { policy: 'dead-letter', deadLetterTopic: 'orders-dlq' } }, 's', '/x', {});
  t.same(ok.errors, { policy: 'dead-letter', deadLetterTopic: 'orders-dlq' });
  t.same(parseConfig({ ...minimal, errors: { policy: 'skip' } }, 's', '/x', {}).errors, { policy: 'skip' });
});

t.test('environment overrides: double underscore nests, single underscore camelCases', async (t) => {
  const config = parseConfig({ ...minimal, workers: 2, state: { dir: './s' } }, 's', '/jobs', {
    WEIR_WORKERS: '4',
    WEIR_COMMIT_INTERVAL: '1',
    WEIR_COMMIT_EVERY: '50',
    WEIR_APP_ID: 'from-env',
    WEIR_STATE__CHANGELOG: 'false',
    WEIR_STATE__OPEN_MAX_RETRIES: '3',
    WEIR_STATE__DIR: 'env-state',
    WEIR_INPUT__TOPICS: 'a, b',
    WEIR_OUTPUT__TOPICS: '["c"]',
    WEIR_ERRORS__POLICY: 'skip',
    WEIR_DEBUG: '1',
    PATH: '/usr/bin',
  });
  t.equal(config.workers, 4);
  t.equal(config.commitInterval, 1);
  t.equal(config.commitEvery, 50);
  t.equal(config.appId, 'from-env');
  t.equal(config.state.changelog, false);
  t.equal(config.state.openMaxRetries, 3);
  t.equal(config.state.dir, '/jobs/env-state', 'env paths resolve against the config directory too');
  t.same(config.input.topics, ['a', 'b']);
  t.same(config.output.topics, ['c']);
  t.equal(config.errors.policy, 'skip');
});

t.test('WEIR_LOG__BACKEND switches the backend and drops the other backend fields', async (t) => {
  const config = parseConfig({ ...minimal, log: { backend: 'local', path: './log' } }, 's', '/x', {
    WEIR_LOG__BACKEND: 'kafka',
    WEIR_LOG__BROKERS: 'k1:9092,k2:9092',
    WEIR_LOG__CLIENT_PROPERTIES: '{"acks": "all", "linger.ms": 5}',
  });
  t.same(config.log, { backend: 'kafka', brokers: ['k1:9092', 'k2:9092'], clientProperties: { acks: 'all', 'linger.ms': 5 } });
});

t.test('a bad env value names the field and the variable; an unknown WEIR_ variable is an error', async (t) => {
  const bad = configErrorOf(t, () => parseConfig(minimal, 's', '/x', { WEIR_WORKERS: 'many' }));
  t.equal(bad.message, 'config error in s: workers: expected a number, got "many" (from WEIR_WORKERS)');
  const backend = configErrorOf(t, () => parseConfig(minimal, 's', '/x', { WEIR_LOG__BACKEND: 'kafak' }));
  t.match(backend.message, 'log.backend: expected "local" or "kafka", got "kafak" (from WEIR_LOG__BACKEND)');
  const typo = configErrorOf(t, () => parseConfig(minimal, 's', '/x', { WEIR_WROKERS: '3' }));
  t.match(typo.message, 'WEIR_WROKERS names no config field');
  t.doesNotThrow(() => parseConfig(minimal, 's', '/x', { WEIR_DEBUG: '1', WEIR_TEST_SEED: '7', WEIR_BENCH_N: '1' }));
});

t.test('kafka: brokers string is split, ${VAR} secrets resolve, errors never show secrets', async (t) => {
  const log = {
    backend: 'kafka',
    brokers: 'b1:9092, b2:9092',
    clientProperties: {
      'security.protocol': 'sasl_ssl',
      'sasl.username': 'svc',
      'sasl.password': '${KAFKA_PW}',
      'sasl.oauthbearer.client.secret': 'pre-${OAUTH_SECRET}-post',
      'ssl.key.password': '${KEY_PW}',
      'linger.ms': 5,
      'enable.idempotence': true,
    },
  };
  const env = { KAFKA_PW: 'hunter2', OAUTH_SECRET: 'oauth-s3cret', KEY_PW: 'keypw' };
  const config = parseConfig({ ...minimal, log }, 's', '/x', env);
  t.same(config.log, {
    backend: 'kafka',
    brokers: ['b1:9092', 'b2:9092'],
    clientProperties: {
      'security.protocol': 'sasl_ssl',
      'sasl.username': 'svc',
      'sasl.password': 'hunter2',
      'sasl.oauthbearer.client.secret': 'pre-oauth-s3cret-post',
      'ssl.key.password': 'keypw',
      'linger.ms': 5,
      'enable.idempotence': true,
    },
  });

  const redacted = redactConfig(config);
  t.same(redacted.log, {
    backend: 'kafka',
    brokers: ['b1:9092', 'b2:9092'],
    clientProperties: {
      'security.protocol': 'sasl_ssl',
      'sasl.username': 'svc',
      'sasl.password': '***',
      'sasl.oauthbearer.client.secret': '***',
      'ssl.key.password': '***',
      'linger.ms': 5,
      'enable.idempotence': true,
    },
  });
  t.equal(config.log.backend === 'kafka' && config.log.clientProperties['sasl.password'], 'hunter2', 'original untouched');
  t.notMatch(JSON.stringify(redacted), /hunter2|oauth-s3cret|keypw/);

  const unset = configErrorOf(t, () => parseConfig({ ...minimal, log }, 's', '/x', { KAFKA_PW: 'hunter2' }));
  t.match(unset.message, 'log.clientProperties.sasl.oauthbearer.client.secret: references environment variable OAUTH_SECRET, which is not set');
  t.notMatch(unset.message, /hunter2/);

  // A validation error elsewhere must not echo a secret value (resolution happens after validation).
  const invalid = configErrorOf(t, () =>
    parseConfig({ ...minimal, workers: 'x', log: { ...log, clientProperties: { 'sasl.password': ['hunter2'] } } }, 's', '/x', env),
  );
  t.match(invalid.message, 'log.clientProperties.sasl.password: expected a string, a number or true or false');
  t.notMatch(invalid.message, /hunter2/);
});

t.test('redactConfig of a local config is an equal copy', async (t) => {
  const config = parseConfig(minimal, 's', '/x', {});
  const copy = redactConfig(config);
  t.same(copy, config);
  t.not(copy, config);
});

t.test('a non-mapping document is rejected', async (t) => {
  const error = configErrorOf(t, () => parseConfig(['a'], '/x/weir.yaml', '/x', {}));
  t.match(error.message, 'config error in /x/weir.yaml: expected a mapping');
});

t.test('${NAME} outside log.clientProperties is refused, naming the field and the WEIR_ variable to use', async (t) => {
  const error = configErrorOf(t, () =>
    parseConfig({ ...minimal, state: { dir: '${DATA}/state', ttlMaxEvictionsPerCheckpoint: 5 }, input: { topics: ['in'] } }, '/x/weir.yaml', '/x', { DATA: '/data' }),
  );
  t.match(error.message, 'state.dir: "${DATA}" is not replaced here (only the secret fields log.clientProperties, server.token, schemaRegistry.url, schemaRegistry.username, schemaRegistry.password resolve ${NAME}); set the field from the environment with WEIR_STATE__DIR instead');
  const fromEnv = configErrorOf(t, () => parseConfig(minimal, '/x/weir.yaml', '/x', { WEIR_LOG__PATH: '${HOME}/log' }));
  t.match(fromEnv.message, 'log.path: "${HOME}" is not replaced here');
  const listed = configErrorOf(t, () => parseConfig({ ...minimal, output: { topics: ['ok', '${TOPIC}'] } }, '/x/weir.yaml', '/x', {}));
  t.match(listed.message, 'output.topics[1]: "${TOPIC}" is not replaced here');
  // Client properties resolve them; a bench value template is data.
  const kafka = parseConfig(
    { ...minimal, log: { backend: 'kafka', brokers: 'b:9092', clientProperties: { 'sasl.password': '${PW}' } }, bench: { input: { value: { note: '${literal}' } } } },
    '/x/weir.yaml',
    '/x',
    { PW: 'hunter2' },
  );
  t.equal(kafka.log.backend === 'kafka' && kafka.log.clientProperties['sasl.password'], 'hunter2');
});

t.test('redactConfig hides what the Kafka backend hides (README: jaas, key.pem, api keys too)', async (t) => {
  const config = parseConfig(
    { ...minimal, log: { backend: 'kafka', brokers: 'b:9092', clientProperties: { 'sasl.jaas.config': 'j', 'schema.registry.api.key': 'k', 'client.id': 'c' } } },
    's',
    '/x',
    {},
  );
  t.same(redactConfig(config).log, { backend: 'kafka', brokers: ['b:9092'], clientProperties: { 'sasl.jaas.config': '***', 'schema.registry.api.key': '***', 'client.id': 'c' } });
});
