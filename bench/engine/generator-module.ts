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
import { loadDefaultExport } from '../../shared/modules/default-export-loader.js';
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

function isGenerator(value: unknown): value is BenchGenerator {
  return typeof value === 'function';
}

/**
 * Loads the generator function exported by the module at `path`.
 * @throws BenchGeneratorError when the file is missing, fails to load, or exports no function.
 */
export async function loadGenerator(path: string): Promise<BenchGenerator> {
  return loadDefaultExport(
    path,
    isGenerator,
    'its default export must be a function (index, { random, keys, records }) => { key, value }',
    (reason, cause) => new BenchGeneratorError(path, reason, { cause }),
  );
}
