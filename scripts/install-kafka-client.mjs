#!/usr/bin/env node
/**
 * Installs the native addon of weir's optional Kafka client, @confluentinc/kafka-javascript.
 * Run by weir's `postinstall` and by `npm run kafka-client` (to retry after installing the
 * prerequisites). package.json's `allowScripts` denies the client's own install script, so
 * this script decides how the addon is obtained:
 *
 * 1. the client already loads (an earlier install, or an npm without `allowScripts` ran
 *    the client's own script): nothing to do;
 * 2. the prebuilt binary, downloaded by the client's node-pre-gyp from its GitHub release:
 *    no compiler needed;
 * 3. a source build of the bundled librdkafka. CKJS_LINKING=dynamic (links the system's
 *    OpenSSL and zlib, downloads nothing) when pkg-config finds both; otherwise static,
 *    for which librdkafka's configure downloads and builds OpenSSL, zlib and zstd itself.
 *    A CKJS_LINKING set by the user wins.
 *
 * When none works it prints what is missing and how to fix it, and exits 0: weir's
 * embedded log needs no Kafka client, so the install succeeds (set
 * WEIR_REQUIRE_KAFKA_CLIENT=1 to make it fail instead, as CI does).
 *
 * The steps take their effects (running a command, probing the machine) as parameters,
 * so test/scripts/install-kafka-client.test.ts drives every path without a network.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLIENT_PACKAGE = '@confluentinc/kafka-javascript';

/** What the source build needs, by linking, for the diagnosis. */
export const BUILD_COMMANDS = ['make', 'c++', 'python3'];
/** pkg-config modules of the dynamic build (the system's OpenSSL and zlib, with headers). */
export const DYNAMIC_LIBRARIES = ['openssl', 'zlib'];

export const FIX_HINT =
  'Install them (Debian/Ubuntu: apt-get install build-essential python3 pkg-config libssl-dev zlib1g-dev; ' +
  'Fedora: dnf install gcc-c++ make python3 pkgconf openssl-devel zlib-devel; macOS: xcode-select --install and brew install openssl pkg-config), ' +
  'then run "npm run kafka-client" in the weir folder. Jobs on the embedded log (log.backend: local) work without it.';

/**
 * @typedef {Record<string, string | undefined>} Env
 * @typedef {{ command(name: string): Promise<boolean>, pkgConfig(modules: readonly string[]): Promise<boolean> }} Probe
 * @typedef {{ ok: boolean, detail: string }} Outcome
 * @typedef {{
 *   env: Env,
 *   clientDir: string | undefined,
 *   loads(): Promise<Outcome>,
 *   nodePreGyp(args: readonly string[], env: Env): Promise<Outcome>,
 *   probe: Probe,
 *   log(line: string): void,
 * }} InstallEffects
 * @typedef {{ result: 'present' | 'prebuilt' | 'built' | 'unavailable', linking?: 'dynamic' | 'static', missing?: string[] }} InstallResult
 */

/**
 * The linking of a source build: the user's CKJS_LINKING, else dynamic when the system's
 * OpenSSL and zlib are there to link, else static.
 * @param {Env} env
 * @param {boolean} systemLibraries
 * @returns {'dynamic' | 'static'}
 */
export function chooseLinking(env, systemLibraries) {
  const chosen = env.CKJS_LINKING;
  if (chosen === 'dynamic' || chosen === 'static') return chosen;
  return systemLibraries ? 'dynamic' : 'static';
}

/**
 * The prerequisites of a source build with `linking` that this machine lacks.
 * @param {Probe} probe
 * @param {'dynamic' | 'static'} linking
 * @returns {Promise<string[]>}
 */
export async function missingPrerequisites(probe, linking) {
  const missing = [];
  for (const name of BUILD_COMMANDS) if (!(await probe.command(name))) missing.push(name === 'c++' ? 'a C++ compiler (c++)' : name);
  if (linking === 'dynamic') {
    if (!(await probe.command('pkg-config'))) missing.push('pkg-config');
    else for (const module of DYNAMIC_LIBRARIES) if (!(await probe.pkgConfig([module]))) missing.push(`the ${module === 'openssl' ? 'OpenSSL' : 'zlib'} headers (pkg-config ${module})`);
  }
  return missing;
}

/**
 * Gets the Kafka client's native addon: already there, else prebuilt, else built from source.
 * @param {InstallEffects} effects
 * @returns {Promise<InstallResult>}
 */
export async function installKafkaClient(effects) {
  const { env, log } = effects;
  if (effects.clientDir === undefined) {
    log(
      `${CLIENT_PACKAGE} is not installed (an optional dependency: left out by --omit=optional, or by an npm older than 11 when its own build failed), ` +
        'so the Kafka backend is unavailable; jobs on the embedded log work without it. To get it, install the build prerequisites ' +
        '(Debian/Ubuntu: apt-get install build-essential python3 pkg-config libssl-dev zlib1g-dev) and run "npm install" again.',
    );
    return { result: 'unavailable', missing: [CLIENT_PACKAGE] };
  }
  if ((await effects.loads()).ok) return { result: 'present' };

  const prebuilt = await effects.nodePreGyp(['install', '--update-binary'], {});
  if (prebuilt.ok && (await effects.loads()).ok) {
    log(`${CLIENT_PACKAGE}: installed the prebuilt binary`);
    return { result: 'prebuilt' };
  }
  const systemLibraries = (await effects.probe.command('pkg-config')) && (await effects.probe.pkgConfig(DYNAMIC_LIBRARIES));
  const linking = chooseLinking(env, systemLibraries);
  log(`${CLIENT_PACKAGE}: no prebuilt binary (${prebuilt.ok ? 'it does not load here' : prebuilt.detail}); building librdkafka from source, ${linking} linking (a few minutes)`);
  const built = await effects.nodePreGyp(['install', `--build-from-source=${CLIENT_PACKAGE}`], { CKJS_LINKING: linking });
  const check = built.ok ? await effects.loads() : built;
  if (check.ok) {
    log(`${CLIENT_PACKAGE}: built from source`);
    return { result: 'built', linking };
  }
  const missing = await missingPrerequisites(effects.probe, linking);
  const lacking = missing.length > 0 ? `This machine lacks: ${missing.join(', ')}. ` : '';
  const network = linking === 'static' ? 'The static build also downloads OpenSSL, zlib and zstd sources (network access to github.com). ' : '';
  log(`${CLIENT_PACKAGE}: the Kafka client could not be installed: no prebuilt binary and the source build failed (${check.detail}). ${lacking}${network}${FIX_HINT}`);
  return { result: 'unavailable', linking, missing };
}

/** node-pre-gyp's and node-gyp's closing lines, which say nothing about the cause. */
const NOISE = /^(\[error\]|gyp ERR!) (not ok|node -v|node-pre-gyp -v|cwd|command|System|stack|install error|node-gyp -v)\b|^at |^gyp ERR! (stack|System|command|cwd|node -v|node-gyp -v|not ok)/;

/**
 * The line of a failed command's stderr that names the cause: the last one that is not
 * a stack frame or one of node-pre-gyp's closing lines.
 * @param {string} stderr
 * @returns {string}
 */
export function failureCause(stderr) {
  const lines = stderr.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  return lines.filter((line) => !NOISE.test(line)).at(-1) ?? lines.at(-1) ?? '';
}

/**
 * Runs a command; resolves with whether it exited 0 and the cause of a failure.
 * @param {string} command
 * @param {readonly string[]} args
 * @param {{ cwd?: string, env?: Env, stdio?: 'inherit' | 'ignore' }} [options]
 * @returns {Promise<Outcome>}
 */
function run(command, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', options.stdio === 'inherit' ? 'inherit' : 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
      if (options.stdio === 'inherit') process.stderr.write(chunk);
    });
    child.on('error', (error) => resolve({ ok: false, detail: error.message }));
    child.on('close', (code) => {
      resolve({ ok: code === 0, detail: code === 0 ? '' : failureCause(stderr) || `exit code ${code}` });
    });
  });
}

/**
 * The real effects, for the package at `root`.
 * @param {string} root
 * @returns {InstallEffects}
 */
export function systemEffects(root) {
  const requireFromRoot = createRequire(join(root, 'package.json'));
  let clientDir;
  try {
    clientDir = dirname(requireFromRoot.resolve(`${CLIENT_PACKAGE}/package.json`));
  } catch {
    clientDir = undefined;
  }
  return {
    env: process.env,
    clientDir,
    // In a child process: a failed dlopen must not stay cached in this one.
    loads: () => run(process.execPath, ['-e', `require(${JSON.stringify(CLIENT_PACKAGE)})`], { cwd: root }),
    nodePreGyp: (args, env) => {
      const bin = createRequire(join(clientDir ?? root, 'package.json')).resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp');
      return run(process.execPath, [bin, ...args], { cwd: clientDir, env, stdio: 'inherit' });
    },
    probe: {
      command: async (name) => (await run('sh', ['-c', `command -v ${name}`])).ok,
      pkgConfig: async (modules) => (await run('pkg-config', ['--exists', ...modules])).ok,
    },
    log: (line) => process.stderr.write(`weir: ${line}\n`),
  };
}

/**
 * The script's exit code: 0 unless the client is unavailable and WEIR_REQUIRE_KAFKA_CLIENT=1
 * (the embedded log needs no client, so by default a missing one must not fail the install).
 * @param {InstallResult} result
 * @param {Env} env
 */
export function exitCode(result, env) {
  return result.result === 'unavailable' && env.WEIR_REQUIRE_KAFKA_CLIENT === '1' ? 1 : 0;
}

const invokedDirectly = process.argv[1] !== undefined && existsSync(process.argv[1]) && fileURLToPath(import.meta.url) === process.argv[1];
if (invokedDirectly) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.exitCode = exitCode(await installKafkaClient(systemEffects(root)), process.env);
}
