/**
 * Loads the default export of a user's module (pipelines, bench generators) with one
 * set of rules: TypeScript (`.ts`, `.mts`, `.cts`) compiled at load so no build step is
 * needed (typescript-module.ts; tsx for what a bundle cannot resolve), JavaScript
 * natively, and a CommonJS module's compiled default (which arrives as
 * `{ default: { default: value } }`) unwrapped.
 */
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { importTypeScript, TYPESCRIPT_SOURCE } from './typescript-module.js';
import { BundleUnsupportedError } from '../errors/runtime-errors.js';

async function importModule(path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href;
  if (TYPESCRIPT_SOURCE.test(path)) {
    try {
      return await importTypeScript(resolve(path));
    } catch (error) {
      if (!(error instanceof BundleUnsupportedError)) throw error;
      // tsx resolves at run time what a bundle could not resolve up front.
      const { tsImport } = await import('tsx/esm/api');
      return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
    }
  }
  return (await import(url)) as Record<string, unknown>;
}

/**
 * The default export of the module at `path` if `accepts` it. Every failure (missing
 * file, import error, wrong export) goes through `fail(reason, cause)` so each caller
 * raises its own typed error naming the path.
 */
export async function loadDefaultExport<T>(
  path: string,
  accepts: (value: unknown) => value is T,
  expected: string,
  fail: (reason: string, cause?: unknown) => Error,
): Promise<T> {
  try {
    await access(path);
  } catch {
    throw fail('the file does not exist');
  }
  let module: Record<string, unknown>;
  try {
    module = await importModule(path);
  } catch (error) {
    throw fail(error instanceof Error ? error.message : String(error), error);
  }
  const candidate = module['default'];
  if (accepts(candidate)) return candidate;
  const nested = (candidate as Record<string, unknown> | undefined)?.['default'];
  if (accepts(nested)) return nested;
  throw fail(expected);
}
