/**
 * The records a benchmark feeds its job, from one of three sources (bench-options.ts):
 * the built-in generator, a JSON Lines file, or the user's generator module. Each
 * source can be replayed: every run appends the same records, in the same order.
 */
import { createReadStream } from 'node:fs';
import { access, constants, stat } from 'node:fs/promises';
import type { AppendRecord } from '../../shared/log/log-backend.js';
import { parseInputLine } from '../../runtime/cli/input-record.js';
import { InputLineError } from '../../runtime/cli/cli-errors.js';
import { InvalidUtf8Lines, readInputLines, type InputLine } from '../../runtime/cli/input-lines.js';
import { BENCH_DEFAULTS } from './bench-defaults.js';
import { BenchGeneratorError, BenchInputFileError, BenchInputLineError } from './bench-errors.js';
import type { BenchInputSpec, FileInputSpec, GeneratedInputSpec, ModuleInputSpec } from './bench-options.js';
import { loadGenerator } from './generator-module.js';
import { seededRandom, uniformKeys, zipfKeys } from './random.js';
import { compileValueTemplate } from './value-template.js';
import type { TopicFormat } from '../../shared/serialization/topic-formats.js';

/** How the input was made, as the report shows it. */
export type BenchInputDescription =
  | (Omit<GeneratedInputSpec, 'kind'> & { readonly source: 'generated' })
  | { readonly source: 'file'; readonly path: string; readonly records: number }
  | { readonly source: 'generator'; readonly path: string; readonly records: number; readonly keys: number; readonly seed: number };

/** A replayable input. */
export interface BenchInput {
  readonly description: BenchInputDescription;
  /** Records each run processes. */
  readonly records: number;
  /** Problems worth a warning that do not stop the benchmark (an input file's lines that are not valid UTF-8). */
  readonly warnings: readonly string[];
  /** The records for `topic`, in batches of about `batchSize`; a fresh pass on every call. */
  batches(topic: string, batchSize?: number): AsyncIterable<AppendRecord[]>;
}

const utf8 = new TextEncoder();

function encodeJson(value: unknown): Uint8Array | null {
  return value === null || value === undefined ? null : utf8.encode(JSON.stringify(value));
}

/**
 * Generated keys and values in the input topic's formats (Avro, Protobuf… in the
 * registry's wire format); JSON as before when the topic has none.
 */
function generatedInput(spec: GeneratedInputSpec, formats: TopicFormat | undefined): BenchInput {
  const keyFormat = formats !== undefined && formats.key.name !== 'json' ? formats.key : undefined;
  const valueFormat = formats !== undefined && formats.value.name !== 'json' ? formats.value : undefined;
  const encodeKey = (key: string): Uint8Array => (keyFormat === undefined ? utf8.encode(JSON.stringify(key)) : keyFormat.serialize(key));
  const encodeValue = (value: unknown): Uint8Array | null =>
    valueFormat === undefined || value === null || value === undefined ? encodeJson(value) : valueFormat.serialize(value);
  const { kind: _kind, ...description } = spec;
  const template = compileValueTemplate(spec.value);
  const sampler = spec.distribution === 'zipf' ? zipfKeys(spec.keys, spec.zipfExponent) : uniformKeys(spec.keys);
  const msPerRecord = 1000 / spec.eventsPerSecond;
  async function* batches(topic: string, batchSize = BENCH_DEFAULTS.produceBatch): AsyncGenerator<AppendRecord[]> {
    const random = seededRandom(spec.seed);
    // Key bytes are reused: the same key is encoded once.
    const keyBytes = new Map<number, Uint8Array>();
    for (let start = 0; start < spec.records; start += batchSize) {
      const batch: AppendRecord[] = [];
      for (let index = start; index < Math.min(spec.records, start + batchSize); index++) {
        const k = sampler(random());
        let key = keyBytes.get(k);
        if (key === undefined) {
          key = encodeKey(`key-${k}`);
          keyBytes.set(k, key);
        }
        const lateness = spec.disorderMs > 0 ? Math.floor(random() * (spec.disorderMs + 1)) : 0;
        const timestamp = Math.max(0, spec.startTimestamp + Math.floor(index * msPerRecord) - lateness);
        const value = template({ index, key: `key-${k}`, random, timestamp });
        batch.push({ topic, key, value: encodeValue(value), timestamp });
      }
      yield batch;
    }
  }
  return { description: { source: 'generated', ...description }, records: spec.records, warnings: [], batches };
}

/** The file's lines, read like `weir produce` reads stdin (BOM dropped, UTF-8 checked per line). */
function fileLines(path: string): AsyncGenerator<InputLine> {
  return readInputLines(createReadStream(path));
}

function parseFileLine(path: string, text: string, lineNumber: number, topic: string, formats?: TopicFormat): AppendRecord | undefined {
  try {
    return parseInputLine(text, lineNumber, topic, formats);
  } catch (error) {
    if (!(error instanceof InputLineError)) throw error;
    // InputLineError's text is written for `weir produce`; say it for bench.
    const problem = error.message.replace(/; nothing was appended$/, '');
    throw new BenchInputLineError(path, lineNumber, `${problem}; nothing was benchmarked`, { cause: error });
  }
}

/** Checks the file is readable and every line (up to the limit) is a record, before any run. */
async function fileInput(spec: FileInputSpec, formats: TopicFormat | undefined): Promise<BenchInput> {
  const { path } = spec;
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new BenchInputFileError(path, error.code === 'ENOENT' ? 'no such file' : error.message, { cause: error });
  });
  if (!info.isFile()) throw new BenchInputFileError(path, 'not a file');
  await access(path, constants.R_OK).catch((error: NodeJS.ErrnoException) => {
    throw new BenchInputFileError(path, 'permission denied', { cause: error });
  });
  const limit = spec.limit ?? Number.POSITIVE_INFINITY;
  let records = 0;
  const invalidUtf8 = new InvalidUtf8Lines();
  try {
    for await (const line of fileLines(path)) {
      if (records >= limit) break;
      invalidUtf8.note(line);
      if (parseFileLine(path, line.text, line.lineNumber, 'validation', formats) !== undefined) records += 1;
    }
  } catch (error) {
    if (error instanceof BenchInputLineError) throw error;
    throw new BenchInputFileError(path, error instanceof Error ? error.message : String(error), { cause: error });
  }
  if (records === 0) throw new BenchInputFileError(path, 'it holds no records');
  async function* batches(topic: string, batchSize = BENCH_DEFAULTS.produceBatch): AsyncGenerator<AppendRecord[]> {
    let batch: AppendRecord[] = [];
    let taken = 0;
    for await (const { text, lineNumber } of fileLines(path)) {
      if (taken >= records) break;
      const record = parseFileLine(path, text, lineNumber, topic, formats);
      if (record === undefined) continue;
      batch.push(record);
      taken += 1;
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }
  return { description: { source: 'file', path, records }, records, warnings: invalidUtf8.warnings(`bench input file ${path}`), batches };
}

async function moduleInput(spec: ModuleInputSpec, formats: TopicFormat | undefined): Promise<BenchInput> {
  const generate = await loadGenerator(spec.path);
  async function* batches(topic: string, batchSize = BENCH_DEFAULTS.produceBatch): AsyncGenerator<AppendRecord[]> {
    const context = { random: seededRandom(spec.seed), keys: spec.keys, records: spec.records };
    for (let start = 0; start < spec.records; start += batchSize) {
      const batch: AppendRecord[] = [];
      for (let index = start; index < Math.min(spec.records, start + batchSize); index++) {
        let record: AppendRecord | undefined;
        try {
          // Through the JSON Lines parser, so a generated record is checked exactly like a line of a file.
          record = parseInputLine(JSON.stringify(generate(index, context)) ?? 'undefined', index + 1, topic, formats);
        } catch (error) {
          const problem = error instanceof InputLineError ? error.message.replace(/^input line \d+: |; nothing was appended$/g, '') : String(error);
          throw new BenchGeneratorError(spec.path, `record ${index}: ${problem}`, { cause: error });
        }
        if (record === undefined) throw new BenchGeneratorError(spec.path, `record ${index}: expected a record, got nothing`);
        batch.push(record);
      }
      yield batch;
    }
  }
  return {
    description: { source: 'generator', path: spec.path, records: spec.records, keys: spec.keys, seed: spec.seed },
    records: spec.records,
    warnings: [],
    batches,
  };
}

/**
 * Prepares the input `spec` describes, with keys and values written in `formats` (the
 * input topic's; JSON when absent). A file is validated completely here, so a bad line
 * fails the benchmark before anything runs.
 * @throws BenchInputFileError, BenchInputLineError, BenchGeneratorError naming the path.
 */
export async function openBenchInput(spec: BenchInputSpec, formats?: TopicFormat): Promise<BenchInput> {
  switch (spec.kind) {
    case 'generated':
      return generatedInput(spec, formats);
    case 'file':
      return fileInput(spec, formats);
    case 'module':
      return moduleInput(spec, formats);
  }
}
