/**
 * The Kafka client (@confluentinc/kafka-javascript) is an optional dependency: a machine
 * where it could not be installed runs jobs on the embedded log, and choosing the Kafka
 * backend there gives a KafkaClientUnavailableError naming what is missing and the fix.
 * The CLI cases run weir with a module hook that makes the package unresolvable, exactly
 * as when npm left it out.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../config/index.js';
import { KafkaClientUnavailableError } from '../../shared/errors/kafka-errors.js';
import { openLogBackend } from '../../runtime/open-log-backend.js';
import { runWeir } from '../cli/fixtures/run-weir.js';

t.setTimeout(600_000);

const repo = fileURLToPath(new URL('../../../', import.meta.url));

/** Resolving the package (or any file in it) fails as for a package that is not installed. */
const HOOKS = `export async function resolve(specifier, context, next) {
  if (specifier === '@confluentinc/kafka-javascript' || specifier.startsWith('@confluentinc/kafka-javascript/')) {
    const error = new Error("Cannot find package '@confluentinc/kafka-javascript' imported from " + context.parentURL);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}`;
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)});`;
const WITHOUT_CLIENT = { NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(REGISTER)}` };

const kafkaConfig = parseConfig(
  { appId: 'a', input: { topics: ['in'] }, pipeline: 'p.js', log: { backend: 'kafka', brokers: ['127.0.0.1:1'] } },
  'test',
  '/tmp',
  {},
);

t.test('a native addon that does not load: the error says so, with the loader reason and the fix', async (t) => {
  const bindingsError = new Error('Could not locate the bindings file. Tried:\n → /app/node_modules/@confluentinc/kafka-javascript/build/Release/confluent-kafka-javascript.node');
  const error = await openLogBackend(kafkaConfig, { loadKafkaClient: () => Promise.reject(bindingsError) }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(error instanceof KafkaClientUnavailableError, 'a KafkaClientUnavailableError');
  const unavailable = error as KafkaClientUnavailableError;
  t.equal(unavailable.code, 'KAFKA_CLIENT_UNAVAILABLE');
  t.equal(unavailable.missing, 'native addon');
  t.equal(unavailable.reason, 'Could not locate the bindings file', 'the first line, without the list of paths');
  t.equal(unavailable.cause, bindingsError);
  t.match(unavailable.message, /installed but its native addon \(librdkafka\) does not load: Could not locate the bindings file\. To fix it, run "npm run kafka-client"/);
  t.match(unavailable.message, /npm run kafka-client/);
  t.match(unavailable.message, /libssl-dev zlib1g-dev/);
  t.match(unavailable.message, /log\.backend: local/);
});

t.test('a package that is not installed: the error says so', async (t) => {
  const notFound = Object.assign(new Error("Cannot find package '@confluentinc/kafka-javascript' imported from /app/dist/shared/log/kafka/kafka-client-loader.js"), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
  const error = await openLogBackend(kafkaConfig, { loadKafkaClient: () => Promise.reject(notFound) }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(error instanceof KafkaClientUnavailableError);
  t.equal((error as KafkaClientUnavailableError).missing, 'package');
  t.match((error as Error).message, /log\.backend is kafka, but the Kafka client @confluentinc\/kafka-javascript is not installed/);
  t.match((error as Error).message, /run "npm install" in the weir folder/);
});

t.test('without the client: a job on the embedded log produces, runs and dumps; the Kafka backend gives the named error', async (t) => {
  const dir = t.testdir();
  const config = join(dir, 'weir.yaml');
  await writeFile(
    config,
    [
      'appId: no-kafka',
      'log: { backend: local, path: ./log }',
      'state: { dir: ./state }',
      'input: { topics: [purchases] }',
      'output: { topics: [stats] }',
      `pipeline: ${join(repo, 'examples/two-stores/pipeline.ts')}`,
      'partitions: 2',
    ].join('\n'),
  );
  const input = await readFile(join(repo, 'examples/two-stores/purchases.jsonl'), 'utf8');
  const records = input.trim().split('\n').length;

  // The hook works: the package cannot be imported in such a process.
  const probe = (env: NodeJS.ProcessEnv): number | null =>
    spawnSync(process.execPath, ['--input-type=module', '-e', "await import('@confluentinc/kafka-javascript')"], { cwd: repo, env: { ...process.env, ...env }, stdio: 'ignore' }).status;
  t.equal(probe({}), 0, 'the client is installed here');
  t.not(probe(WITHOUT_CLIENT), 0, 'but cannot be imported under the hook');

  const produced = await runWeir(['produce', '-c', config, '--topic', 'purchases'], { input, env: WITHOUT_CLIENT });
  t.equal(produced.code, 0, produced.stderr);
  const run = await runWeir(['run', '-c', config, '--until-idle', '--workers', '2'], { env: WITHOUT_CLIENT });
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, new RegExp(`^records: ${records}$`, 'm'));
  const dumped = await runWeir(['topic', 'dump', '-c', config, '--topic', 'stats'], { env: WITHOUT_CLIENT });
  t.equal(dumped.code, 0, dumped.stderr);
  t.ok(dumped.stdout.trim().split('\n').length > 0, 'outputs');

  const kafka = join(dir, 'kafka.yaml');
  await writeFile(kafka, ['appId: no-kafka', 'log: { backend: kafka, brokers: ["127.0.0.1:1"] }', 'input: { topics: [purchases] }', `pipeline: ${join(repo, 'examples/two-stores/pipeline.ts')}`].join('\n'));
  const listed = await runWeir(['topic', 'list', '-c', kafka], { env: WITHOUT_CLIENT });
  t.equal(listed.code, 1);
  t.match(listed.stderr, /^weir: log\.backend is kafka, but the Kafka client @confluentinc\/kafka-javascript is not installed .*run "npm install" in the weir folder \(not with --omit=optional\)/);
  t.equal(listed.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
});

t.test('the build type-checks without the client: the modules importing it compile against the stand-in types', async (t) => {
  // tsconfig.json's paths fall back to types/kafka-javascript-absent.d.ts when the package
  // is absent; this config uses only the stand-ins, as such a build would.
  const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(repo, 'types', 'tsconfig.absent-client.json')], { encoding: 'utf8' });
  t.equal(result.status, 0, result.stdout + result.stderr);
});
