/**
 * A throwaway count job on the local log for end-to-end tests: a temp directory with a
 * config file, a JavaScript pipeline, input generation and a model of the right answer;
 * and `replaceMethods`, to inject faults into the backend such a job runs on.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig, type WeirConfig } from '../../config/index.js';
import { LocalLogBackend } from '../../shared/log/local/local-log-backend.js';
import type { AppendRecord, LogBackend, LogRecord } from '../../shared/log/log-backend.js';
import { dumpState, type StateEntry } from '../../runtime/state-inspection.js';
import { countPipelineSource } from '../../examples/count/count-pipeline-source.js';
import { partitionForKey } from '../../shared/log/murmur2-partitioner.js';

export const COUNT_PIPELINE = countPipelineSource();

/**
 * Counts per key and emits the count; the record whose value has n === 2 throws after
 * writing state and emitting (error-policy tests: a failed record must leave neither).
 */
export const failingPipeline = (outputTopic: string): string => `
export default {
  stores: { counts: { preload: ['count'] } },
  process(record, context) {
    const state = context.state('counts');
    const count = state.get('count', 0) + 1;
    state.set('count', count);
    context.emit(${JSON.stringify(outputTopic)}, { key: record.key, value: count });
    if (record.value.n === 2) throw new Error('boom on the third record');
  },
};
`;
export const FAILING_PIPELINE = failingPipeline('counts');

export interface JobFixture {
  readonly dir: string;
  readonly configPath: string;
  readonly logPath: string;
  config(overrides?: Record<string, string>): Promise<WeirConfig>;
}

export interface FixtureOptions {
  /** Default `test-count`. */
  readonly appId?: string;
  /** Default `[events]`. */
  readonly inputTopics?: readonly string[];
  readonly partitions?: number;
  readonly processingGuarantee?: 'at-least-once' | 'exactly-once';
  readonly commitInterval?: number;
  readonly commitEvery?: number;
  readonly pipeline?: string;
  /** Default `[counts]`. */
  readonly outputTopics?: readonly string[];
  readonly extraYaml?: string;
}

export async function createJobFixture(dir: string, options: FixtureOptions = {}): Promise<JobFixture> {
  const configPath = join(dir, 'weir.yaml');
  await writeFile(join(dir, 'pipeline.mjs'), options.pipeline ?? COUNT_PIPELINE);
  await writeFile(
    configPath,
    [
      `appId: ${options.appId ?? 'test-count'}`,
      'log: { backend: local, path: ./log }',
      'state: { dir: ./state }',
      `input: { topics: [${(options.inputTopics ?? ['events']).join(', ')}] }`,
      `output: { topics: [${(options.outputTopics ?? ['counts']).join(', ')}] }`,
      'pipeline: ./pipeline.mjs',
      `partitions: ${options.partitions ?? 4}`,
      `processingGuarantee: ${options.processingGuarantee ?? 'at-least-once'}`,
      `commitInterval: ${options.commitInterval ?? 5}`,
      `commitEvery: ${options.commitEvery ?? 0}`,
      options.extraYaml ?? '',
    ].join('\n'),
  );
  return {
    dir,
    configPath,
    logPath: join(dir, 'log'),
    config: (overrides = {}) => loadConfig(configPath, { ...overrides }),
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A seeded xorshift32 generator of unsigned 32-bit integers: test input that replays. */
export function xorshift32(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

/**
 * A copy of an example's weir.yaml in `dir` with the log and state there and the pipeline
 * taken from the example folder (examples keep their data under the repository's .weir/).
 */
export async function localExampleConfig(exampleDir: string, dir: string): Promise<string> {
  const configPath = join(dir, 'weir.yaml');
  const example = await readFile(join(exampleDir, 'weir.yaml'), 'utf8');
  await writeFile(
    configPath,
    example
      .replace(/path: .*log/, 'path: ./log')
      .replace(/dir: .*state/, 'dir: ./state')
      .replace('pipeline: ./pipeline.ts', `pipeline: ${JSON.stringify(join(exampleDir, 'pipeline.ts'))}`),
  );
  return configPath;
}

/** Deterministic keyed events: `count` records over `keys` keys, seeded. */
export function generateEvents(count: number, keys: number, seed = 1, startAt = 0): AppendRecord[] {
  const next = xorshift32(seed);
  const records: AppendRecord[] = [];
  for (let i = 0; i < count; i++) {
    const key = `k${next() % keys}`;
    records.push({
      topic: 'events',
      key: encoder.encode(JSON.stringify(key)),
      value: encoder.encode(JSON.stringify({ n: startAt + i })),
      timestamp: 1_700_000_000_000 + startAt + i,
    });
  }
  return records;
}

/** Append events to the fixture's log (creating the topic). */
export async function appendEvents(fixture: JobFixture, records: readonly AppendRecord[], partitions = 4): Promise<void> {
  const backend = await LocalLogBackend.open(fixture.logPath);
  try {
    if ((await backend.describeTopic('events')) === undefined) await backend.createTopic('events', partitions);
    const producer = await backend.producer();
    for (let i = 0; i < records.length; i += 5000) await producer.append(records.slice(i, i + 5000));
    await producer.close();
  } finally {
    await backend.close();
  }
}

/** Expected count per key for a list of events. */
export function modelCounts(records: readonly AppendRecord[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of records) {
    const key = JSON.parse(decoder.decode(r.key!)) as string;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/**
 * Where two count maps differ, summed per partition of the key (murmur2, as the producer
 * places keyed records): a failure message that says which partitions over- or
 * under-counted, and by how much, when the diff itself is too long to read in a CI log.
 */
export function countDifference(expected: ReadonlyMap<string, number>, actual: ReadonlyMap<string, number>, partitions: number): string {
  const perPartition = new Map<number, { keys: number; delta: number }>();
  for (const key of new Set([...expected.keys(), ...actual.keys()])) {
    const delta = (actual.get(key) ?? 0) - (expected.get(key) ?? 0);
    if (delta === 0) continue;
    const partition = partitionForKey(encoder.encode(JSON.stringify(key)), partitions);
    const entry = perPartition.get(partition) ?? { keys: 0, delta: 0 };
    entry.keys += 1;
    entry.delta += delta;
    perPartition.set(partition, entry);
  }
  if (perPartition.size === 0) return 'no difference';
  return [...perPartition]
    .sort(([a], [b]) => a - b)
    .map(([partition, { keys, delta }]) => `partition ${partition}: ${keys} keys differ, ${delta > 0 ? '+' : ''}${delta} in total`)
    .join('; ');
}

/** Counts as found in the job's state (`weir state dump` logic). */
export async function stateCounts(config: WeirConfig): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for await (const entry of dumpState(config, 'counts') as AsyncGenerator<StateEntry>) {
    if (entry.stateKey === 'count') counts.set(entry.key as string, entry.value as number);
  }
  return counts;
}

/** Every record of a topic of the local log at `logPath`, all partitions, in offset order per partition. */
export async function readTopic(logPath: string, topic: string): Promise<LogRecord[]> {
  const backend = await LocalLogBackend.open(logPath);
  try {
    return await readWholeTopic(backend, topic);
  } finally {
    await backend.close();
  }
}

/**
 * Every record of `topic` on any backend: all partitions, each from its low to its high
 * watermark as they are now, in offset order per partition (none when the topic is missing).
 */
export async function readWholeTopic(backend: LogBackend, topic: string): Promise<LogRecord[]> {
  const description = await backend.describeTopic(topic);
  if (description === undefined) return [];
  const reader = await backend.reader();
  const all: LogRecord[] = [];
  for (let partition = 0; partition < description.partitions; partition++) {
    const { low, high } = await backend.watermarks({ topic, partition });
    for (let next = low; next < high; ) {
      const batch = await reader.read({ topic, partition }, next, 10_000);
      if (batch.length === 0) break;
      all.push(...batch);
      next = batch[batch.length - 1]!.offset + 1;
    }
  }
  await reader.close();
  return all;
}

export function decodeJson(bytes: Uint8Array | null): unknown {
  return bytes === null ? null : JSON.parse(decoder.decode(bytes));
}

/** The output values per message key of a count job, in offset order per partition. */
export function outputsByKey(outputs: readonly LogRecord[]): Map<string, number[]> {
  const seen = new Map<string, number[]>();
  for (const o of outputs) {
    const key = decodeJson(o.key) as string;
    let list = seen.get(key);
    if (list === undefined) seen.set(key, (list = []));
    list.push(decodeJson(o.value) as number);
  }
  return seen;
}

/** The names of `T`'s methods. */
export type MethodName<T> = { [K in keyof T]-?: T[K] extends (...args: never[]) => unknown ? K : never }[keyof T];

/**
 * `target` with the methods in `replacements` swapped for them: fault injection in a log
 * backend, its consumers or its producers (a commit refused, an append failing). Every
 * other property reads through to `target`, its methods bound to it. A replacement that
 * calls the original calls it on `target`, which it closes over.
 */
export function replaceMethods<T extends object>(target: T, replacements: Partial<Pick<T, MethodName<T>>>): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      if (Object.hasOwn(replacements, property)) return Reflect.get(replacements, property) as unknown;
      const value: unknown = Reflect.get(object, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(object) : value;
    },
  });
}
