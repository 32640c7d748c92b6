/**
 * Key layout of the local log's single LevelDB database (log format 2). Every key
 * starts with one kind byte so each kind is one contiguous range, and numbers are
 * big-endian so LevelDB's byte order is numeric order:
 *
 * | kind | key                                                          | value                                  |
 * | ---- | ------------------------------------------------------------ | -------------------------------------- |
 * | 0x01 | (nothing)                                                    | format version (JSON)                  |
 * | 0x02 | topic name (UTF-8)                                           | topic metadata (JSON)                  |
 * | 0x03 | topic id u32, partition u32                                  | high watermark u64                     |
 * | 0x04 | topic id u32, partition u32, lastOffset u64, baseOffset u64  | one record batch (record-batch.ts)     |
 * | 0x05 | group length u16, group (UTF-8), topic id u32, partition u32 | committed offset u64                   |
 * | 0x06 | topic id u32, partition u32                                  | compacted up to u64, live records u64  |
 *
 * A batch entry is keyed by its **last** offset first, so the batch holding offset X
 * is the first entry at or after `(X, 0)`: a read from any offset is one forward seek.
 * The base offset follows so two entries can never share a key. After compaction an
 * entry's key range may be wider than its records (records were removed): readers go
 * on after the key's last offset, never after the last record.
 *
 * Topics get a small numeric id at creation so batch keys stay 25 bytes whatever the
 * topic name; topics are never deleted, so ids are never reused. docs/local-log.md
 * describes the layout and why it is keyed this way.
 */

export const FORMAT_KEY = Buffer.from([0x01]);
const TOPIC = 0x02;
const WATERMARK = 0x03;
const BATCH = 0x04;
const GROUP_OFFSET = 0x05;
const COMPACTION = 0x06;

export const BATCH_KEY_BYTES = 25;
const TWO_32 = 2 ** 32;

/** All topic metadata keys. */
export const TOPIC_RANGE = { gte: Buffer.from([TOPIC]), lt: Buffer.from([TOPIC + 1]) };
/** All watermark keys. */
export const WATERMARK_RANGE = { gte: Buffer.from([WATERMARK]), lt: Buffer.from([WATERMARK + 1]) };
/** All compaction checkpoint keys. */
export const COMPACTION_RANGE = { gte: Buffer.from([COMPACTION]), lt: Buffer.from([COMPACTION + 1]) };

export function topicKey(name: string): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  const key = Buffer.allocUnsafe(1 + nameBytes.length);
  key[0] = TOPIC;
  nameBytes.copy(key, 1);
  return key;
}

export function topicNameFromKey(key: Buffer): string {
  return key.toString('utf8', 1);
}

function partitionKey(kind: number, topicId: number, partition: number): Buffer {
  const key = Buffer.allocUnsafe(9);
  key[0] = kind;
  key.writeUInt32BE(topicId, 1);
  key.writeUInt32BE(partition, 5);
  return key;
}

export function watermarkKey(topicId: number, partition: number): Buffer {
  return partitionKey(WATERMARK, topicId, partition);
}

export function compactionKey(topicId: number, partition: number): Buffer {
  return partitionKey(COMPACTION, topicId, partition);
}

/** Topic id and partition of a watermark or compaction checkpoint key. */
export function parsePartitionKey(key: Buffer): { topicId: number; partition: number } {
  return { topicId: key.readUInt32BE(1), partition: key.readUInt32BE(5) };
}

/** The key of the batch entry holding offsets `baseOffset … lastOffset` of a partition. */
export function batchKey(topicId: number, partition: number, lastOffset: number, baseOffset: number): Buffer {
  const key = Buffer.allocUnsafe(BATCH_KEY_BYTES);
  key[0] = BATCH;
  key.writeUInt32BE(topicId, 1);
  key.writeUInt32BE(partition, 5);
  writeUint64(key, 9, lastOffset);
  writeUint64(key, 17, baseOffset);
  return key;
}

/**
 * Lower bound of the entries holding offsets ≥ `offset`: the first entry at or after it
 * is the batch containing `offset` (or the first one after it). As an upper bound
 * (`lt`), it excludes every entry whose last offset is ≥ `offset`.
 */
export function batchSeekKey(topicId: number, partition: number, offset: number): Buffer {
  return batchKey(topicId, partition, offset, 0);
}

export function lastOffsetFromBatchKey(key: Buffer): number {
  return readUint64(key, 9);
}

export function baseOffsetFromBatchKey(key: Buffer): number {
  return readUint64(key, 17);
}

export function groupOffsetKey(group: string, topicId: number, partition: number): Buffer {
  const groupBytes = Buffer.from(group, 'utf8');
  const key = Buffer.allocUnsafe(3 + groupBytes.length + 8);
  key[0] = GROUP_OFFSET;
  key.writeUInt16BE(groupBytes.length, 1);
  groupBytes.copy(key, 3);
  key.writeUInt32BE(topicId, 3 + groupBytes.length);
  key.writeUInt32BE(partition, 7 + groupBytes.length);
  return key;
}

/** Offsets are JS numbers (< 2^53), stored as unsigned 64-bit big-endian. */
export function encodeUint64(value: number): Buffer {
  const bytes = Buffer.allocUnsafe(8);
  writeUint64(bytes, 0, value);
  return bytes;
}

export function writeUint64(target: Buffer, at: number, value: number): void {
  target.writeUInt32BE(Math.floor(value / TWO_32), at);
  target.writeUInt32BE(value >>> 0, at + 4);
}

export function readUint64(source: Buffer, at: number): number {
  return source.readUInt32BE(at) * TWO_32 + source.readUInt32BE(at + 4);
}
