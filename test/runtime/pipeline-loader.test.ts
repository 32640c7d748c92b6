import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
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

t.test('a TypeScript pipeline loads, compiled at load', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'p.ts');
  await writeFile(path, `const stores: Record<string, object> = { s: {} };\nexport default { stores, process(): void {} };\n`);
  const loaded = await loadPipeline(path);
  t.same(Object.keys(loaded.stores ?? {}), ['s']);
});

t.test('a TypeScript pipeline imports TypeScript files beside it, Node built-ins and packages; import.meta.url is its own; its stack traces name its lines', async (t) => {
  // Inside the repository, so the package import resolves through its node_modules as a user's would.
  const dir = t.testdir({
    'helper.ts': `export const topic: string = 'counts';\nexport function fail(): never {\n  throw new Error('from the helper');\n}\n`,
    'p.ts': [
      `import { join } from 'node:path';`,
      `import { parse } from 'yaml';`,
      `import { fail, topic } from './helper.js';`,
      `const seen: Record<string, unknown> = parse('a: 1');`,
      `export const where = { url: import.meta.url, joined: join('a', 'b'), seen };`,
      `export default { stores: { [topic]: {} }, process(): void { fail(); } };`,
      ``,
    ].join('\n'),
  });
  const path = join(dir, 'p.ts');
  const loaded = await loadPipeline(path);
  t.same(Object.keys(loaded.stores ?? {}), ['counts'], 'the relative .ts import (written as .js) is bundled');
  const module = (await import('../../shared/modules/typescript-module.js')).importTypeScript;
  const where = (await module(path))['where'] as { url: string; joined: string; seen: unknown };
  t.equal(where.url, pathToFileURL(path).href, 'import.meta.url is the file the user wrote');
  t.equal(where.joined, join('a', 'b'));
  t.same(where.seen, { a: 1 }, 'a package resolves from the pipeline directory');
  const error = t.throws(() => loaded.process!({} as never, {} as never)) as Error;
  t.match(error.stack ?? '', /helper\.ts:3/, 'the stack trace points into the TypeScript source');
});

t.test('a tsconfig paths alias to a TypeScript file is compiled with the pipeline', async (t) => {
  const dir = t.testdir({
    'tsconfig.json': JSON.stringify({ compilerOptions: { baseUrl: '.', paths: { '@lib/*': ['./lib/*'] } } }),
    lib: { 'names.ts': `export const store: string = 'aliased';\n` },
    'p.ts': `import { store } from '@lib/names';\nexport default { stores: { [store]: {} }, process(): void {} };\n`,
  });
  const loaded = await loadPipeline(join(dir, 'p.ts'));
  t.same(Object.keys(loaded.stores ?? {}), ['aliased']);
});

t.test('a CommonJS TypeScript pipeline (.cts) loads', async (t) => {
  const dir = t.testdir({ 'p.cts': `const stores: Record<string, object> = { c: {} };\nmodule.exports = { default: { stores, process(): void {} } };\n` });
  const loaded = await loadPipeline(join(dir, 'p.cts'));
  t.same(Object.keys(loaded.stores ?? {}), ['c']);
});

t.test('a TypeScript pipeline importing a package that is not installed fails naming the path and the package', async (t) => {
  const dir = t.testdir({ 'p.ts': `import missing from 'weir-no-such-package';\nexport default { process(): void { missing(); } };\n` });
  const path = join(dir, 'p.ts');
  await t.rejects(loadPipeline(path), PipelineLoadError);
  await t.rejects(loadPipeline(path), /p\.ts: .*weir-no-such-package/);
});

t.test('a syntax error in a TypeScript pipeline names the file and line', async (t) => {
  const dir = t.testdir({ 'p.ts': `export default {\n  process(): void {\n    const = 1;\n  },\n};\n` });
  await t.rejects(loadPipeline(join(dir, 'p.ts')), /p\.ts:.*p\.ts:3/s);
});

t.test('missing files and wrong exports name the path', async (t) => {
  const dir = t.testdir();
  await t.rejects(loadPipeline(join(dir, 'missing.mjs')), PipelineLoadError);
  await t.rejects(loadPipeline(join(dir, 'missing.mjs')), /missing\.mjs: the file does not exist/);
  const wrong = join(dir, 'wrong.mjs');
  await writeFile(wrong, 'export default 42;');
  await t.rejects(loadPipeline(wrong), /wrong\.mjs: its default export must be definePipeline/);
});
