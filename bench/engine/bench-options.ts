/**
 * What one `weir bench` invocation measures: the worker counts and the input, merged
 * from command-line flags (win), the config's `bench` section, and BENCH_DEFAULTS.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../config/index.js';
import { applyEnvOverrides, BENCH_SECTION_PREFIX } from '../../config/env-overrides.js';
import { benchSchema, weirConfigSchema, type BenchSection } from '../../config/schema.js';
import { BENCH_DEFAULTS, defaultWorkerCounts } from './bench-defaults.js';

export type KeyDistribution = 'uniform' | 'zipf';

/** Records from the built-in generator. */
export interface GeneratedInputSpec {
  readonly kind: 'generated';
  readonly records: number;
  readonly keys: number;
  readonly distribution: KeyDistribution;
  readonly zipfExponent: number;
  /** JSON value template (see value-template.ts). */
  readonly value: unknown;
  readonly eventsPerSecond: number;
  readonly disorderMs: number;
  readonly startTimestamp: number;
  readonly seed: number;
}

/** Records from a JSON Lines file (`weir produce` format). */
export interface FileInputSpec {
  readonly kind: 'file';
  /** Absolute path. */
  readonly path: string;
  /** Use at most this many records of the file; all when undefined. */
  readonly limit?: number;
}

/** Records from the user's generator module (see generator-module.ts for its contract). */
export interface ModuleInputSpec {
  readonly kind: 'module';
  /** Absolute path. */
  readonly path: string;
  readonly records: number;
  readonly keys: number;
  readonly seed: number;
}

export type BenchInputSpec = GeneratedInputSpec | FileInputSpec | ModuleInputSpec;

/** Everything the engine needs to run a benchmark. */
export interface BenchOptions {
  /** The user's config file; it is only read, never written. */
  readonly configPath: string;
  /** Worker counts, one run each, in this order. */
  readonly workers: readonly number[];
  readonly input: BenchInputSpec;
}

/** Command-line choices; each one given overrides the config's `bench` section. */
export interface BenchFlags {
  readonly records?: number;
  readonly keys?: number;
  readonly workers?: readonly number[];
  /** JSON Lines input file (relative to the working directory). */
  readonly input?: string;
  /** Generator module (relative to the working directory). */
  readonly generator?: string;
  readonly distribution?: KeyDistribution;
}

/**
 * The `bench` section of the config file at `configPath`, with `WEIR_BENCH__…` overrides
 * from `env` applied (`WEIR_BENCH__RECORDS=500`, `WEIR_BENCH__INPUT__KEYS=10`, as for every
 * other field) and paths resolved against the file's folder. The whole file is validated
 * first by loadConfig (whose schema knows the section), so a bad field or variable is
 * reported like any config error.
 * @throws ConfigFileNotFoundError, ConfigError naming the file and the field.
 */
export async function readBenchSection(configPath: string, env: NodeJS.ProcessEnv = process.env): Promise<BenchSection> {
  const absolute = resolve(configPath);
  await loadConfig(absolute, env);
  // JSON is YAML, so one parser reads both config formats.
  const document = parseYaml(await readFile(absolute, 'utf8')) as { bench?: unknown } | null;
  const benchEnv = Object.fromEntries(Object.entries(env).filter(([name]) => name.startsWith(BENCH_SECTION_PREFIX)));
  const overridden = applyEnvOverrides({ bench: document?.bench ?? {} }, benchEnv, weirConfigSchema).config;
  const section = benchSchema.parse(overridden['bench'] ?? {});
  const input = section.input;
  if (input === undefined) return section;
  const base = dirname(absolute);
  return {
    ...section,
    input: {
      ...input,
      ...(input.file === undefined ? {} : { file: resolve(base, input.file) }),
      ...(input.generator === undefined ? {} : { generator: resolve(base, input.generator) }),
    },
  };
}

/** Merges flags over the config section over the defaults. */
export function resolveBenchOptions(configPath: string, section: BenchSection, flags: BenchFlags): BenchOptions {
  const configured = section.input ?? {};
  const workers = flags.workers ?? section.workers ?? defaultWorkerCounts();
  const records = flags.records ?? section.records;
  const keys = flags.keys ?? configured.keys ?? BENCH_DEFAULTS.keys;
  const seed = configured.seed ?? BENCH_DEFAULTS.seed;

  // A flag naming a source beats any source in the config.
  const file = flags.input !== undefined ? resolve(flags.input) : flags.generator !== undefined ? undefined : configured.file;
  const generator = flags.generator !== undefined ? resolve(flags.generator) : flags.input !== undefined ? undefined : configured.generator;

  let input: BenchInputSpec;
  if (file !== undefined) {
    input = { kind: 'file', path: file, ...(records === undefined ? {} : { limit: records }) };
  } else if (generator !== undefined) {
    input = { kind: 'module', path: generator, records: records ?? BENCH_DEFAULTS.records, keys, seed };
  } else {
    input = {
      kind: 'generated',
      records: records ?? BENCH_DEFAULTS.records,
      keys,
      distribution: flags.distribution ?? configured.distribution ?? 'uniform',
      zipfExponent: configured.zipfExponent ?? BENCH_DEFAULTS.zipfExponent,
      value: configured.value ?? BENCH_DEFAULTS.value,
      eventsPerSecond: configured.eventsPerSecond ?? BENCH_DEFAULTS.eventsPerSecond,
      disorderMs: configured.disorderMs ?? BENCH_DEFAULTS.disorderMs,
      startTimestamp: configured.startTimestamp ?? BENCH_DEFAULTS.startTimestamp,
      seed,
    };
  }
  return { configPath: resolve(configPath), workers: [...workers], input };
}
