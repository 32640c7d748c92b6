/**
 * Reading and clearing a job's local state from outside a running job (`weir state
 * dump`, `weir state clear`). Both check each store partition's lock, so a running job
 * holding the locks makes them fail with the store's lock error instead of reading
 * half-written state or deleting it under the job. `clear` never opens a database (it
 * only takes and releases the lock), so it works on a corrupt store too.
 */
import { readdir, rm } from 'node:fs/promises';
import type { WeirConfig } from '../config/index.js';
import { loadPipeline } from '../shared/pipeline/pipeline-loader.js';
import { storeNames, windowStoreNames } from '../shared/pipeline/pipeline-definition.js';
import { StoreNotRegisteredError } from '../shared/errors/state-errors.js';
import { StorePartition, DEFAULT_CF, assertStoreNotLocked } from '../workers/state/index.js';
import { streamIdOf } from './changelog-topics.js';
import { resolveInsideStateDir } from './state-paths.js';
import { NEVER_EXPIRES, SEPARATOR, parseWindowKey, readLiveValue } from '../shared/codecs/index.js';
import { decoder, parseJson, splitStoredKey, splitWindowKey } from '../workers/state/stored-keys.js';
import { appStateDir, storeDir, storePartitionDir } from '../workers/state/state-layout.js';
import { TopicFormats } from '../shared/serialization/topic-formats.js';
import type { Format } from '../shared/serialization/format.js';
import { addPrintable } from '../shared/serialization/printable.js';

/** One entry of `weir state dump`. */
export interface StateEntry {
  readonly store: string;
  readonly partition: number;
  /**
   * The message key: decoded JSON, or the key's text when it is not JSON (plain-text
   * Kafka keys); null for state without a message key.
   */
  readonly key?: unknown;
  /** The message key as base64, instead of `key`, when the input key format is `bytes`. */
  readonly keyBase64?: string;
  readonly stateKey: unknown;
  readonly value: unknown;
  /** Epoch ms the entry expires at, for state written with a TTL. */
  readonly expiresAt?: number;
}

type KeySplit = { key: unknown; stateKey: unknown };

/**
 * Splits stored keys whose prefix is a message key in `format` (the input topics' key
 * format when it is not JSON): the first separator whose right side is a JSON state key
 * and whose left side `format` reads wins.
 */
function keySplitter(format: Format, windowed: boolean): (key: Uint8Array) => Promise<KeySplit> {
  const read = async (bytes: Uint8Array): Promise<{ ok: true; value: unknown } | { ok: false }> => {
    try {
      await format.prepare?.(bytes);
      return { ok: true, value: format.deserialize(bytes) };
    } catch {
      return { ok: false };
    }
  };
  const split = async (key: Uint8Array): Promise<KeySplit> => {
    for (let i = key.indexOf(SEPARATOR); i >= 0; i = key.indexOf(SEPARATOR, i + 1)) {
      const stateKey = parseJson(key.subarray(i + 1));
      if (!stateKey.ok) continue;
      const prefix = await read(key.subarray(0, i));
      if (prefix.ok) return { key: prefix.value, stateKey: stateKey.value };
    }
    const whole = parseJson(key);
    return whole.ok ? { key: null, stateKey: whole.value } : { key: null, stateKey: decoder.decode(key) };
  };
  if (!windowed) return split;
  return async (key) => {
    let window: ReturnType<typeof parseWindowKey>;
    try {
      window = parseWindowKey(key);
    } catch {
      return split(key);
    }
    const prefix = await read(window.prefix);
    return prefix.ok ? { key: prefix.value, stateKey: { start: window.start, end: window.end } } : split(key);
  };
}

/** The key format of the input topics when one is configured and not JSON (state prefixes are input keys). */
async function inputKeyFormats(config: WeirConfig): Promise<{ format: Format | undefined; formats: TopicFormats | undefined }> {
  const specs = config.formats?.input ?? {};
  const topic = config.input.topics.find((t) => specs[t] !== undefined && specs[t].key.type !== 'json');
  if (topic === undefined) return { format: undefined, formats: undefined };
  const formats = await TopicFormats.create({ read: { [topic]: specs[topic]! }, write: {}, schemaRegistry: config.schemaRegistry });
  return { format: formats.format(topic, 'key'), formats };
}

async function partitionNumbers(dir: string): Promise<number[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isDirectory() && /^\d+$/.test(e.name))
    .map((e) => Number(e.name))
    .sort((a, b) => a - b);
}

/** `<state.dir>/<appId>`, checked to lie inside `state.dir`. */
function jobStateDir(config: WeirConfig): string {
  return resolveInsideStateDir(config.state.dir, appStateDir(config.state.dir, config.appId));
}

function storeDirOf(config: WeirConfig, store: string): string {
  return storeDir(jobStateDir(config), store, streamIdOf(config.input.topics));
}

function partitionDirOf(config: WeirConfig, store: string, partition: number): string {
  return storePartitionDir(jobStateDir(config), store, streamIdOf(config.input.topics), partition);
}

/**
 * Every entry of `store`'s default column family, partition by partition, in key order.
 * In a partition in TTL mode, values are shown without their stamp, entries written with
 * a TTL carry `expiresAt`, and entries already expired by the partition's clock (deleted
 * by a later checkpoint) are left out, as the job would read them.
 */
export async function* dumpState(config: WeirConfig, store: string): AsyncGenerator<StateEntry> {
  const pipeline = await loadPipeline(config.pipeline);
  const stores = storeNames(pipeline);
  if (!stores.includes(store)) throw new StoreNotRegisteredError(store, streamIdOf(config.input.topics));
  const windowed = [...windowStoreNames(pipeline).values()].includes(store);
  const keyFormat = await inputKeyFormats(config);
  const splitKey: (key: Uint8Array) => KeySplit | Promise<KeySplit> =
    keyFormat.format !== undefined ? keySplitter(keyFormat.format, windowed) : windowed ? splitWindowKey : splitStoredKey;
  try {
    yield* dumpPartitions(config, store, splitKey);
  } finally {
    keyFormat.formats?.close();
  }
}

async function* dumpPartitions(config: WeirConfig, store: string, splitKey: (key: Uint8Array) => KeySplit | Promise<KeySplit>): AsyncGenerator<StateEntry> {
  for (const partition of await partitionNumbers(storeDirOf(config, store))) {
    // inspectOnly: a dump reports a corrupt partition and never deletes it.
    const db = await StorePartition.open(partitionDirOf(config, store, partition), {
      openMaxRetries: 0,
      inspectOnly: true,
      storeName: store,
      partition,
    });
    try {
      for await (const [key, stored] of db.iterItems({ cf: DEFAULT_CF })) {
        let value = stored;
        let expiresAt: number | undefined;
        if (db.ttlEnabled) {
          const live = readLiveValue(stored, db.ttlHighWaterMs);
          if (live === undefined) continue;
          if (live.expiresAtMs !== NEVER_EXPIRES) expiresAt = live.expiresAtMs;
          value = live.payload;
        }
        const parsed = parseJson(value);
        const split = await splitKey(key);
        const printedKey: Record<string, unknown> = {};
        addPrintable(printedKey, 'key', split.key);
        yield {
          store,
          partition,
          ...printedKey,
          stateKey: split.stateKey,
          value: parsed.ok ? parsed.value : decoder.decode(value),
          ...(expiresAt !== undefined ? { expiresAt } : {}),
        };
      }
    } finally {
      await db.close();
    }
  }
}

/**
 * Delete the job's local state, `<state.dir>/<appId>` and nothing outside `state.dir`;
 * fails if a running job holds any store partition. Damaged partitions are deleted like
 * any other: only their locks are checked, their data is never read.
 * @throws StatePathOutsideStateDirError when the job's state directory is not inside `state.dir`.
 * @throws StoreLockedError when a running job holds a partition.
 */
export async function clearState(config: WeirConfig): Promise<string> {
  const base = jobStateDir(config);
  const stores = await readdir(base, { withFileTypes: true }).catch(() => []);
  for (const s of stores.filter((e) => e.isDirectory())) {
    const dir = storeDirOf(config, s.name);
    for (const partition of await partitionNumbers(dir)) await assertStoreNotLocked(partitionDirOf(config, s.name, partition));
  }
  await rm(base, { recursive: true, force: true });
  return base;
}
