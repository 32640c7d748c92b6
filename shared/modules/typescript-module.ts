/**
 * Imports a TypeScript module without a loader thread: esbuild (the compiler tsx runs on)
 * bundles the file and its relative imports into one ES module, written to a file of
 * this thread's own under the system's temporary directory (never beside the user's
 * files), imported, and deleted (Node keeps the loaded module). esbuild's service process
 * is stopped once no build is running, so none is left behind per thread either.
 * Packages stay imports of their own, as the absolute file URLs they resolve to from the
 * importing file's directory; Node's built-in modules stay as they are.
 * An inline source map points stack traces at the TypeScript lines.
 *
 * Why not tsx's `tsImport`: it registers module customization hooks, and Node 20 runs
 * those on a thread of their own in every thread that registers them — one more V8
 * isolate for the coordinator and one per worker, for the life of the process, to load
 * one file once (~30–60 MB of resident memory each; the count job peaked 90–180 MB
 * higher with its TypeScript pipeline than with the same pipeline in JavaScript).
 *
 * What a bundle changes: `import.meta.url` (and `dirname`, `filename`) in the bundled
 * files is the entry file's (so files next to the pipeline are found as before); a
 * relative `import()` with a computed path cannot be bundled. `loadDefaultExport` falls back to tsx for a module
 * this cannot bundle (see {@link BundleUnsupportedError}).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { threadId } from 'node:worker_threads';
import type { Plugin } from 'esbuild';
import { BundleUnsupportedError } from '../errors/runtime-errors.js';

/** A TypeScript source file name (`.ts`, `.mts`, `.cts`, `.tsx`). */
export const TYPESCRIPT_SOURCE = /\.[cm]?tsx?$/;

/** Marks every package import external, as the absolute file URL it resolves to from the importing file. */
const packagesAsFileUrls: Plugin = {
  name: 'weir-packages-as-file-urls',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === 'weir-resolving' || isBuiltin(args.path) || args.path.startsWith('data:') || args.path.startsWith('file:')) {
        return undefined;
      }
      const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'weir-resolving' });
      if (resolved.errors.length > 0 || resolved.path === '') throw new BundleUnsupportedError(`cannot resolve package "${args.path}" from ${args.resolveDir}`);
      // TypeScript behind a bare name (a tsconfig `paths` alias, a package shipping .ts) is compiled with the rest.
      if (TYPESCRIPT_SOURCE.test(resolved.path)) return { path: resolved.path };
      return { path: pathToFileURL(resolved.path).href, external: true };
    });
  },
};

/** Where bundles are written (the system's temporary directory). */
const BUNDLE_DIR = join(tmpdir(), 'weir-typescript');

/** Builds running in this thread: esbuild's service is stopped when the last one ends. */
let buildsRunning = 0;
let bundlesWritten = 0;

/** The module at `path` (absolute), compiled and imported in this thread. */
export async function importTypeScript(path: string): Promise<Record<string, unknown>> {
  const file = join(BUNDLE_DIR, `${process.pid}-${threadId}-${bundlesWritten++}.mjs`);
  const code = await bundle(path, file);
  await mkdir(BUNDLE_DIR, { recursive: true });
  await writeFile(file, code);
  try {
    // Stack traces of the pipeline's code point into the .ts files (the bundle's source map).
    process.setSourceMapsEnabled(true);
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } finally {
    await rm(file, { force: true });
  }
}

/** The bundle of `path` as it will be written to `file` (its source map's paths are relative to `file`). */
async function bundle(path: string, file: string): Promise<string> {
  const esbuild = await import('esbuild');
  buildsRunning++;
  try {
    const result = await esbuild.build({
      entryPoints: [path],
      outfile: file,
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: `node${process.versions.node.split('.')[0]}`,
      sourcemap: 'inline',
      logLevel: 'silent',
      define: {
        'import.meta.url': JSON.stringify(pathToFileURL(path).href),
        'import.meta.filename': JSON.stringify(path),
        'import.meta.dirname': JSON.stringify(dirname(path)),
      },
      plugins: [packagesAsFileUrls],
    });
    return result.outputFiles[0]!.text;
  } catch (error) {
    const unsupported = (error as { errors?: { detail?: unknown }[] }).errors?.some((e) => e.detail instanceof BundleUnsupportedError);
    if (unsupported === true) throw new BundleUnsupportedError(error instanceof Error ? error.message : String(error), { cause: error });
    throw error;
  } finally {
    if (--buildsRunning === 0) await esbuild.stop();
  }
}
