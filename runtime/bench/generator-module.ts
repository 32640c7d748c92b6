/**
 * A user generator module for `weir bench --generator FILE` (or `bench.input.generator`).
 *
 * Its default export is a function called once per record, in order:
 *
 * ```ts
 * // the function's type is BenchGenerator (exported below)
 * export default (index, { random, keys }) => ({
 *   key: `user-${Math.floor(random() * keys)}`,
 *   value: { n: index, amount: random() * 100 },
 *   timestamp: 1_700_000_000_000 + index,   // optional
 * });
 * ```
 *
 * It returns one record in the `weir produce` JSON Lines shape (`key`, `value`,
 * optional `timestamp` and `headers`). `random` is seeded, so input is reproducible.
 * TypeScript modules load through tsx, like pipelines.
 */
import { access } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { BenchGeneratorError } from './bench-errors.js';

/** What a generator is given besides the record index. */
export interface BenchGeneratorContext {
  /** Seeded uniform random numbers in [0, 1). */
  readonly random: () => number;
  /** The key cardinality asked for (`--keys`, `bench.input.keys`). */
  readonly keys: number;
  /** Records that will be generated in total. */
  readonly records: number;
}

/** One generated record, in the `weir produce` input shape. */
export interface BenchGeneratedRecord {
  readonly key: unknown;
  readonly value: unknown;
  readonly timestamp?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

export type BenchGenerator = (index: number, context: BenchGeneratorContext) => BenchGeneratedRecord;

const TYPESCRIPT = /\.[cm]?tsx?$/;

async function importModule(path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href;
  if (TYPESCRIPT.test(path)) {
    const { tsImport } = await import('tsx/esm/api');
    return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
  }
  return (await import(url)) as Record<string, unknown>;
}

/**
 * Loads the generator function exported by the module at `path`.
 * @throws BenchGeneratorError when the file is missing, fails to load, or exports no function.
 */
export async function loadGenerator(path: string): Promise<BenchGenerator> {
  try {
    await access(path);
  } catch {
    throw new BenchGeneratorError(path, 'the file does not exist');
  }
  let module: Record<string, unknown>;
  try {
    module = await importModule(path);
  } catch (error) {
    throw new BenchGeneratorError(path, error instanceof Error ? error.message : String(error), { cause: error });
  }
  // A CommonJS module compiled by tsx arrives as { default: { default: fn } }.
  const candidate = module['default'];
  const generator = typeof candidate === 'function' ? candidate : (candidate as Record<string, unknown> | undefined)?.['default'];
  if (typeof generator !== 'function') {
    throw new BenchGeneratorError(path, 'its default export must be a function (index, { random, keys, records }) => { key, value }');
  }
  return generator as BenchGenerator;
}
