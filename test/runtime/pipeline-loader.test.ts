import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadPipeline } from '../../shared/pipeline/pipeline-loader.js';
import { PipelineLoadError } from '../../shared/errors/runtime-errors.js';

t.test('a plain object with only windows loads and gets the no-op process', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'windows.mjs');
  const windows = new URL('../../shared/pipeline/windows.js', import.meta.url).href;
  await writeFile(
    path,
    `import { tumblingWindow, count } from '${windows}';\n` +
      `export default { windows: { clicks: tumblingWindow({ durationMs: 1000, aggregate: count() }) } };\n`,
  );
  const loaded = await loadPipeline(path);
  t.type(loaded.process, 'function');
  t.same(Object.keys(loaded.windows ?? {}), ['clicks']);
});

t.test('a TypeScript pipeline loads through tsx', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'p.ts');
  await writeFile(path, `const stores: Record<string, object> = { s: {} };\nexport default { stores, process(): void {} };\n`);
  const loaded = await loadPipeline(path);
  t.same(Object.keys(loaded.stores ?? {}), ['s']);
});

t.test('missing files and wrong exports name the path', async (t) => {
  const dir = t.testdir();
  await t.rejects(loadPipeline(join(dir, 'missing.mjs')), PipelineLoadError);
  await t.rejects(loadPipeline(join(dir, 'missing.mjs')), /missing\.mjs: the file does not exist/);
  const wrong = join(dir, 'wrong.mjs');
  await writeFile(wrong, 'export default 42;');
  await t.rejects(loadPipeline(wrong), /wrong\.mjs: its default export must be definePipeline/);
});
