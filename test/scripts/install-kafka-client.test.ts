/**
 * scripts/install-kafka-client.mjs (weir's postinstall): the order of its steps (already
 * there, prebuilt download, source build, give up with a diagnosis), the linking of the
 * source build, and that it never fails the install unless asked to. Driven through fake
 * effects, so no network or compiler is involved; the real path runs in every `npm ci`.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type * as InstallScript from '../../scripts/install-kafka-client.mjs';
import type { Env, InstallEffects, Outcome } from '../../scripts/install-kafka-client.mjs';

/** The script itself (not compiled: npm runs it before the build), from dist/test/scripts/. */
const SCRIPT = fileURLToPath(new URL('../../../scripts/install-kafka-client.mjs', import.meta.url));
const script = (await import(SCRIPT)) as typeof InstallScript;

const OK: Outcome = { ok: true, detail: '' };
const fail = (detail: string): Outcome => ({ ok: false, detail });

interface Machine {
  clientDir?: string | undefined;
  /** Does the client load: before anything, after the prebuilt step, after the source build. */
  loads?: boolean[];
  prebuilt?: Outcome;
  sourceBuild?: Outcome;
  commands?: string[];
  pkgConfig?: string[];
  env?: Env;
}

interface Recorded {
  effects: InstallEffects;
  calls: { args: readonly string[]; env: Env }[];
  logs: string[];
}

function machine(m: Machine): Recorded {
  const calls: Recorded['calls'] = [];
  const logs: string[] = [];
  const loads = [...(m.loads ?? [false, false, false])];
  const commands = new Set(m.commands ?? ['make', 'c++', 'python3', 'pkg-config']);
  const modules = new Set(m.pkgConfig ?? ['openssl', 'zlib']);
  const effects: InstallEffects = {
    env: m.env ?? {},
    clientDir: 'clientDir' in m ? m.clientDir : '/app/node_modules/@confluentinc/kafka-javascript',
    loads: async () => (loads.shift() ? OK : fail('Could not locate the bindings file')),
    nodePreGyp: async (args, env) => {
      calls.push({ args, env });
      return args.some((arg) => arg.startsWith('--build-from-source')) ? (m.sourceBuild ?? OK) : (m.prebuilt ?? fail('response status 404'));
    },
    probe: {
      command: async (name) => commands.has(name),
      pkgConfig: async (names) => names.every((name) => modules.has(name)),
    },
    log: (line) => logs.push(line),
  };
  return { effects, calls, logs };
}

t.test('a client that already loads is left alone', async (t) => {
  const { effects, calls } = machine({ loads: [true] });
  t.same(await script.installKafkaClient(effects), { result: 'present' });
  t.same(calls, [], 'no download, no build');
});

t.test('the prebuilt binary is used where it can be had: no source build', async (t) => {
  const { effects, calls, logs } = machine({ loads: [false, true], prebuilt: OK });
  t.same(await script.installKafkaClient(effects), { result: 'prebuilt' });
  t.same(calls.map((call) => call.args), [['install', '--update-binary']]);
  t.match(logs.join('\n'), /installed the prebuilt binary/);
});

t.test('no prebuilt binary (as on a machine that cannot reach GitHub): falls back to a source build against the system OpenSSL and zlib', async (t) => {
  const { effects, calls, logs } = machine({ loads: [false, true], prebuilt: fail('getaddrinfo ENOTFOUND github.com') });
  t.same(await script.installKafkaClient(effects), { result: 'built', linking: 'dynamic' });
  t.same(calls, [
    { args: ['install', '--update-binary'], env: {} },
    { args: ['install', '--build-from-source=@confluentinc/kafka-javascript'], env: { CKJS_LINKING: 'dynamic' } },
  ]);
  t.match(logs.join('\n'), /no prebuilt binary \(getaddrinfo ENOTFOUND github.com\); building librdkafka from source, dynamic linking/);
});

t.test('a prebuilt binary that downloads but does not load here is replaced by a source build', async (t) => {
  const { effects, calls } = machine({ loads: [false, false, true], prebuilt: OK });
  t.same(await script.installKafkaClient(effects), { result: 'built', linking: 'dynamic' });
  t.equal(calls.length, 2);
});

t.test('without the OpenSSL or zlib headers the source build links statically (librdkafka fetches its own)', async (t) => {
  const { effects, calls } = machine({ loads: [false, true], pkgConfig: ['zlib'] });
  t.same(await script.installKafkaClient(effects), { result: 'built', linking: 'static' });
  t.same(calls[1]?.env, { CKJS_LINKING: 'static' });
});

t.test("the user's CKJS_LINKING wins", async (t) => {
  t.equal(script.chooseLinking({ CKJS_LINKING: 'static' }, true), 'static');
  t.equal(script.chooseLinking({ CKJS_LINKING: 'dynamic' }, false), 'dynamic');
  t.equal(script.chooseLinking({ CKJS_LINKING: 'bogus' }, false), 'static', 'an unknown value is ignored');
  const { effects, calls } = machine({ loads: [false, true], env: { CKJS_LINKING: 'static' } });
  await script.installKafkaClient(effects);
  t.same(calls[1]?.env, { CKJS_LINKING: 'static' });
});

t.test('neither works: the result names every missing prerequisite and the log says how to fix it', async (t) => {
  const { effects, logs } = machine({ sourceBuild: fail('gyp ERR! stack Error: not found: make'), commands: ['python3', 'pkg-config'], pkgConfig: ['zlib'] });
  const result = await script.installKafkaClient(effects);
  t.equal(result.result, 'unavailable');
  // pkg-config lacks openssl, so the build was static: it needs no system headers.
  t.same(result.missing, ['make', 'a C++ compiler (c++)']);
  const log = logs.join('\n');
  t.match(log, /could not be installed: no prebuilt binary and the source build failed \(gyp ERR! stack Error: not found: make\)/);
  t.match(log, /This machine lacks: make, a C\+\+ compiler \(c\+\+\)/);
  t.match(log, /network access to github\.com/, 'a static build downloads sources');
  t.match(log, /apt-get install build-essential python3 pkg-config libssl-dev zlib1g-dev/);
  t.match(log, /npm run kafka-client/);
});

t.test('the dynamic build lists the missing headers', async (t) => {
  t.same(await script.missingPrerequisites({ command: async () => true, pkgConfig: async ([name]) => name === 'zlib' }, 'dynamic'), ['the OpenSSL headers (pkg-config openssl)']);
  t.same(await script.missingPrerequisites({ command: async (name) => name !== 'pkg-config', pkgConfig: async () => false }, 'dynamic'), ['pkg-config']);
  t.same(await script.missingPrerequisites({ command: async () => true, pkgConfig: async () => false }, 'static'), []);
});

t.test('an unavailable client fails the install only when WEIR_REQUIRE_KAFKA_CLIENT=1 (CI)', async (t) => {
  t.equal(script.exitCode({ result: 'unavailable' }, {}), 0);
  t.equal(script.exitCode({ result: 'unavailable' }, { WEIR_REQUIRE_KAFKA_CLIENT: '1' }), 1);
  t.equal(script.exitCode({ result: 'built' }, { WEIR_REQUIRE_KAFKA_CLIENT: '1' }), 0);
});

t.test("the cause of a failed step is node-pre-gyp's reason, not its closing lines", async (t) => {
  const offline = [
    '[info] it worked if it ends with ok',
    '[log] GET https://github.com/x.tar.gz',
    '[error] install request to https://github.com/x.tar.gz failed, reason: getaddrinfo ENOTFOUND github.com',
    'request to https://github.com/x.tar.gz failed, reason: getaddrinfo ENOTFOUND github.com',
    '[error] install error',
    '[error] stack FetchError: request to https://github.com/x.tar.gz failed, reason: getaddrinfo ENOTFOUND github.com',
    '    at ClientRequest.<anonymous> (/x/node_modules/node-fetch/lib/index.js:1501:11)',
    '[error] System Linux 6.18.44',
    '[error] command "/usr/bin/node" "node-pre-gyp" "install" "--update-binary"',
    '[error] cwd /x/node_modules/@confluentinc/kafka-javascript',
    '[error] node -v v20.20.2',
    '[error] node-pre-gyp -v v2.0.3',
    '[error] not ok',
  ].join('\n');
  t.equal(script.failureCause(offline), 'request to https://github.com/x.tar.gz failed, reason: getaddrinfo ENOTFOUND github.com');
  t.equal(script.failureCause('only line\n'), 'only line');
  t.equal(script.failureCause(''), '');
});

t.test('a client package npm left out is reported, nothing is run', async (t) => {
  const { effects, calls, logs } = machine({ clientDir: undefined });
  t.same(await script.installKafkaClient(effects), { result: 'unavailable', missing: ['@confluentinc/kafka-javascript'] });
  t.same(calls, []);
  t.match(logs.join('\n'), /is not installed .*run "npm install" again/);
});

t.test('run as a script on this checkout: the installed client loads, so it exits 0 without building', async (t) => {
  const result = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
  t.equal(result.code, 0, result.stderr);
  t.equal(result.stderr, '', 'nothing to say');
});
