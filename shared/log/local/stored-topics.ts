/**
 * What the local log stores about itself: its layout version and, per topic, the metadata,
 * high watermarks and compaction checkpoints that `LocalLogStore` loads into memory at open
 * (key layout in `key-layout.ts`, docs/local-log.md).
 */
import type { TopicConfig } from '../log-backend.js';
import { LogFormatError } from '../../errors/log-errors.js';
import { COMPACTION_RANGE, FORMAT_KEY, parsePartitionKey, readUint64, TOPIC_RANGE, topicNameFromKey, WATERMARK_RANGE } from './key-layout.js';
import { parseCompactionCheckpoint } from './log-compactor.js';
import type { LogDatabase } from './open-log-database.js';
import { MAX_PARTITIONS_PER_TOPIC } from './validate-arguments.js';

/** Version of the on-disk layout. 1 was one LevelDB entry per record (weir before record batches). */
export const FORMAT_VERSION = 2;

/** A topic as the store keeps it in memory. */
export interface TopicState {
  readonly name: string;
  readonly id: number;
  readonly partitions: number;
  readonly config: TopicConfig;
  /** Per partition: next offset to be written, as far as readers may see (durable). */
  readonly high: number[];
  /** Per partition: next offset to hand out; ahead of `high` while writes are queued. */
  readonly reserved: number[];
  /** Next partition for a record with neither key nor partition. */
  nextRoundRobin: number;
  /** Per partition (compact topics): offsets below it are compacted. */
  readonly cleanedTo: number[];
  /** Per partition (compact topics): records the last compaction pass kept. */
  readonly liveRecords: number[];
  /** Per partition: records per stored batch, an estimate that sizes reads (0 = unknown). */
  readonly recordsPerBatch: number[];
}

export interface StoredTopicMeta {
  readonly id: number;
  readonly partitions: number;
  readonly config: TopicConfig;
}

export function newTopicState(name: string, meta: StoredTopicMeta, high: number[]): TopicState {
  return {
    name,
    id: meta.id,
    partitions: meta.partitions,
    config: meta.config,
    high,
    reserved: [...high],
    nextRoundRobin: 0,
    cleanedTo: new Array<number>(meta.partitions).fill(0),
    liveRecords: new Array<number>(meta.partitions).fill(0),
    recordsPerBatch: new Array<number>(meta.partitions).fill(0),
  };
}

export async function checkFormat(db: LogDatabase, path: string): Promise<void> {
  const stored = await db.get(FORMAT_KEY);
  if (stored === undefined) {
    await db.put(FORMAT_KEY, Buffer.from(JSON.stringify(FORMAT_VERSION)), { sync: true });
    return;
  }
  let version: unknown;
  try {
    version = JSON.parse(stored.toString('utf8'));
  } catch {
    version = stored.toString('latin1');
  }
  if (version === FORMAT_VERSION) return;
  if (version === 1) {
    throw new LogFormatError(
      path,
      'it was written by an earlier weir that stored one LevelDB entry per record (log format 1); this weir stores ' +
        `record batches (log format ${FORMAT_VERSION}) and cannot read it. Delete the log directory and produce the input ` +
        'again (`weir produce`; changelogs are rebuilt by the job), or run the weir version that wrote it',
    );
  }
  const newer = typeof version === 'number' && version > FORMAT_VERSION;
  throw new LogFormatError(
    path,
    `log format ${String(version)} is not supported (this weir reads format ${FORMAT_VERSION})` +
      (newer ? '; it was written by a newer weir: run that version' : ''),
  );
}

export async function loadTopics(db: LogDatabase, path: string): Promise<TopicState[]> {
  // Bounded ranges: one entry per topic and per partition.
  const metas = await db.iterator(TOPIC_RANGE).all();
  const topics: TopicState[] = [];
  const byId = new Map<number, TopicState>();
  for (const [key, value] of metas) {
    const name = topicNameFromKey(key);
    const meta = parseTopicMeta(value, name, path);
    const topic = newTopicState(name, meta, new Array<number>(meta.partitions).fill(0));
    topics.push(topic);
    byId.set(meta.id, topic);
  }
  for (const [key, value] of await db.iterator(WATERMARK_RANGE).all()) {
    const { topicId, partition } = parsePartitionKey(key);
    const topic = byId.get(topicId);
    if (topic !== undefined && partition < topic.partitions) {
      topic.high[partition] = readUint64(value, 0);
      topic.reserved[partition] = topic.high[partition]!;
    }
  }
  for (const [key, value] of await db.iterator(COMPACTION_RANGE).all()) {
    const { topicId, partition } = parsePartitionKey(key);
    const topic = byId.get(topicId);
    if (topic !== undefined && partition < topic.partitions) {
      const { cleanedTo, liveRecords } = parseCompactionCheckpoint(value);
      topic.cleanedTo[partition] = Math.min(cleanedTo, topic.high[partition]!);
      topic.liveRecords[partition] = liveRecords;
    }
  }
  return topics;
}

function parseTopicMeta(value: Buffer, name: string, path: string): StoredTopicMeta {
  let meta: Partial<StoredTopicMeta>;
  try {
    meta = JSON.parse(value.toString('utf8')) as Partial<StoredTopicMeta>;
  } catch {
    throw new LogFormatError(path, `the metadata of topic "${name}" is not JSON: the log is damaged`);
  }
  const partitions = meta.partitions;
  if (!Number.isSafeInteger(partitions) || partitions! < 1 || partitions! > MAX_PARTITIONS_PER_TOPIC) {
    throw new LogFormatError(
      path,
      `topic "${name}" is stored with ${String(partitions)} partitions, outside the 1–${MAX_PARTITIONS_PER_TOPIC.toLocaleString('en-US')} ` +
        'this weir allows: its metadata is damaged or was not written by weir. Delete the log directory and produce the input again',
    );
  }
  if (!Number.isSafeInteger(meta.id) || meta.id! < 0) {
    throw new LogFormatError(path, `topic "${name}" has no valid id in its metadata: the log is damaged`);
  }
  return { id: meta.id!, partitions: partitions!, config: meta.config ?? {} };
}
