/**
 * Bad names (issue 12, item 1): appId and store names become directories under
 * `state.dir`, and `weir state clear` deletes `<state.dir>/<appId>`. A name that is not
 * one path-safe directory name is refused where it is read (config, pipeline), naming the
 * field or the store, and nothing is ever created or deleted outside `state.dir`.
 */
import t from 'tap';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, parseConfig, type WeirConfig } from '../../config/index.js';
import { definePipeline, tumblingWindow, count } from '../../shared/pipeline/pipeline-definition.js';
import { loadPipeline } from '../../shared/pipeline/pipeline-loader.js';
import { InvalidStoreNameError, StatePathOutsideStateDirError } from '../../shared/errors/state-errors.js';
import { PipelineLoadError } from '../../shared/errors/runtime-errors.js';
import { clearState } from '../../runtime/state-inspection.js';
import { StateManager } from '../../runtime/state-manager.js';
import { isStrictlyInside } from '../../runtime/state-paths.js';
import { runWeir } from '../cli/fixtures/run-weir.js';

const base = { input: { topics: ['events'] }, pipeline: './pipeline.mjs', state: { changelog: false } };

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

t.test('appId must be one path-safe name; the error names the field (and the variable that set it)', async (t) => {
  for (const appId of ['..', '.', '../escaped', 'a/b', '/abs', 'a b', '', 'x'.repeat(250)]) {
    const error = configError(() => parseConfig({ ...base, appId }, 'weir.yaml', '/jobs', {}));
    t.equal(error.issues[0]?.path, 'appId', `appId ${JSON.stringify(appId)}`);
    t.match(error.message, /appId: expected an application id of 1-249 letters, digits, "\.", "_" or "-", and not "\." or "\.\."/);
  }
  for (const appId of ['orders-app', 'a.b_c-1', '..x', 'x'.repeat(249)]) {
    t.equal(parseConfig({ ...base, appId }, 'weir.yaml', '/jobs', {}).appId, appId, `appId ${appId} is accepted`);
  }
  const fromEnv = configError(() => parseConfig({ ...base, appId: 'fine' }, 'weir.yaml', '/jobs', { WEIR_APP_ID: '..' }));
  t.match(fromEnv.message, /appId: .* \(from WEIR_APP_ID\)/);
});

t.test('store, timestamped store and window names are checked when the pipeline is defined and loaded', async (t) => {
  const process = (): void => undefined;
  t.throws(() => definePipeline({ stores: { '../../x': {} }, process }), {
    constructor: InvalidStoreNameError,
    code: 'INVALID_STORE_NAME',
    storeName: '../../x',
    message: /store name "\.\.\/\.\.\/x" cannot be used/,
  });
  t.throws(() => definePipeline({ stores: { '..': {} }, process }), { code: 'INVALID_STORE_NAME', storeName: '..' });
  t.throws(() => definePipeline({ timestampedStores: { 'a/b': {} }, process }), {
    constructor: InvalidStoreNameError,
    code: 'INVALID_STORE_NAME',
    kind: 'timestamped store',
  });
  t.throws(() => definePipeline({ windows: { '../w': tumblingWindow({ durationMs: 1000, aggregate: count() }) } }), {
    constructor: InvalidStoreNameError,
    kind: 'window',
    declaredName: '../w',
    message: /window "\.\.\/w" has the store name "\.\.\/w_tumbling_window_1000_count"/,
  });
  t.doesNotThrow(() => definePipeline({ stores: { counts: {}, 'a.b_c-1': {} }, process }));

  // A plain-object module (not built with definePipeline) is checked by the loader.
  const dir = t.testdir();
  const path = join(dir, 'escaping.mjs');
  await writeFile(path, `export default { stores: { '../../x': {} }, process() {} };\n`);
  const error = (await loadPipeline(path).catch((e: unknown) => e)) as PipelineLoadError;
  t.type(error, PipelineLoadError);
  t.match(error.message, /escaping\.mjs: store name "\.\.\/\.\.\/x" cannot be used/);
  t.type(error.cause, InvalidStoreNameError);
});

t.test('state paths must be strictly inside state.dir', async (t) => {
  t.equal(isStrictlyInside('/s', '/s/app'), true);
  t.equal(isStrictlyInside('/s', '/s/..app'), true, 'a child named "..app"');
  t.equal(isStrictlyInside('/s', '/s'), false, 'state.dir itself');
  t.equal(isStrictlyInside('/s', '/s/..'), false);
  t.equal(isStrictlyInside('/s', '/s/../x'), false);
  t.equal(isStrictlyInside('/s', '/other'), false);
});

/** A job folder: config, pipeline, and state.dir `./state`, as a user has it. */
async function jobFolder(dir: string): Promise<{ config: WeirConfig; files: string[] }> {
  await writeFile(join(dir, 'weir.yaml'), 'appId: fine\ninput: { topics: [events] }\npipeline: ./pipeline.mjs\n');
  await writeFile(join(dir, 'pipeline.mjs'), 'export default { stores: { counts: {} }, process() {} };\n');
  await mkdir(join(dir, 'state'), { recursive: true });
  const config = parseConfig({ appId: 'fine', input: { topics: ['events'] }, pipeline: './pipeline.mjs' }, join(dir, 'weir.yaml'), dir, {});
  return { config, files: (await readdir(dir)).sort() };
}

t.test('state clear and the state manager refuse a hand-built config whose appId leaves state.dir', async (t) => {
  const dir = t.testdir();
  const { config, files } = await jobFolder(dir);
  for (const appId of ['..', '.', '../..']) {
    const escaping: WeirConfig = { ...config, appId };
    const error = (await clearState(escaping).catch((e: unknown) => e)) as StatePathOutsideStateDirError;
    t.type(error, StatePathOutsideStateDirError, `clearState with appId ${appId}`);
    t.equal(error.code, 'STATE_PATH_OUTSIDE_STATE_DIR');
    t.equal(error.stateDir, config.state.dir);

    const manager = new StateManager({ appId, stateDir: config.state.dir, inputTopics: ['events'], stores: ['counts'], changelogEnabled: false });
    await t.rejects(manager.prepareDirectory(), StatePathOutsideStateDirError);
  }
  t.same((await readdir(dir)).sort(), files, 'the job folder is untouched');
  t.match(await readFile(join(dir, 'weir.yaml'), 'utf8'), /appId: fine/);
});

t.test('weir state clear with appId ".." (file or WEIR_APP_ID) is a config error and deletes nothing', async (t) => {
  const dir = t.testdir();
  const { files } = await jobFolder(dir);
  const configPath = join(dir, 'weir.yaml');
  const fromEnv = await runWeir(['state', 'clear', '-c', configPath], { env: { WEIR_APP_ID: '..' } });
  t.equal(fromEnv.code, 1);
  t.match(fromEnv.stderr, /^weir: config error in .*weir\.yaml: appId: .*\(from WEIR_APP_ID\)\n$/);

  await writeFile(configPath, 'appId: ..\ninput: { topics: [events] }\npipeline: ./pipeline.mjs\n');
  const fromFile = await runWeir(['state', 'clear', '-c', configPath]);
  t.equal(fromFile.code, 1);
  t.match(fromFile.stderr, /^weir: config error in .*weir\.yaml: appId: expected an application id/);
  t.same((await readdir(dir)).sort(), files, 'config, pipeline and state are all still there');
});
