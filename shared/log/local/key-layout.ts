/**
 * Key layout of the local log's single LevelDB database. Every key starts with one
 * kind byte so each kind is one contiguous range, and numbers are big-endian so
 * LevelDB's byte order is numeric order:
 *
 * | kind | key                                             | value                        |
 * | ---- | ----------------------------------------------- | ---------------------------- |
 * | 0x01 | (nothing)                                       | format version (JSON)        |
 * | 0x02 | topic name (UTF-8)                              | topic metadata (JSON)        |
 * | 0x03 | topic id u32, partition u32                     | high watermark u64           |
 * | 0x04 | topic id u32, partition u32, offset u64         | encoded record (record-codec) |
 * | 0x05 | group length u16, group (UTF-8), topic id u32, partition u32 | committed offset u64 |
 *
 * Topics get a small numeric id at creation so record keys stay 17 bytes whatever
 * the topic name; topics are never deleted, so ids are never reused.
 */

export const FORMAT_KEY = Buffer.from([0x01]);
const TOPIC = 0x02;
const WATERMARK = 0x03;
const RECORD = 0x04;
const GROUP_OFFSET = 0x05;

export const RECORD_KEY_BYTES = 17;
const TWO_32 = 2 ** 32;

/** All topic metadata keys. */
export const TOPIC_RANGE = { gte: Buffer.from([TOPIC]), lt: Buffer.from([TOPIC + 1]) };
/** All watermark keys. */
export const WATERMARK_RANGE = { gte: Buffer.from([WATERMARK]), lt: Buffer.from([WATERMARK + 1]) };

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

export function watermarkKey(topicId: number, partition: number): Buffer {
  const key = Buffer.allocUnsafe(9);
  key[0] = WATERMARK;
  key.writeUInt32BE(topicId, 1);
  key.writeUInt32BE(partition, 5);
  return key;
}

export function parseWatermarkKey(key: Buffer): { topicId: number; partition: number } {
  return { topicId: key.readUInt32BE(1), partition: key.readUInt32BE(5) };
}

/** Writes a record key into `target` at `at` (batches share one buffer for all keys). */
export function writeRecordKey(target: Buffer, at: number, topicId: number, partition: number, offset: number): void {
  target[at] = RECORD;
  target.writeUInt32BE(topicId, at + 1);
  target.writeUInt32BE(partition, at + 5);
  writeUint64(target, at + 9, offset);
}

export function recordKey(topicId: number, partition: number, offset: number): Buffer {
  const key = Buffer.allocUnsafe(RECORD_KEY_BYTES);
  writeRecordKey(key, 0, topicId, partition, offset);
  return key;
}

export function offsetFromRecordKey(key: Buffer): number {
  return readUint64(key, 9);
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
