/**
 * Binary encoding of a record's value in the local log (topic, partition and offset
 * live in the key). Layout, big-endian:
 *
 *   version u8 (=1) · timestamp f64 · key length i32 (-1 = null) · key bytes
 *   · value length i32 (-1 = null) · value bytes · header count u32
 *   · per header: name length u16 · name (UTF-8) · value length i32 (-1 = null) · value bytes
 *
 * Decoding returns key/value/header bytes as views into the stored buffer (no copy).
 */
import type { EncodedRecords, LogRecord, RecordHeader } from '../log-backend.js';
import { LogFormatError } from '../../errors/log-errors.js';

const VERSION = 1;
const FIXED_BYTES = 1 + 8 + 4 + 4 + 4;

/** What the codec needs of a record to encode it. */
export interface EncodableRecord {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers?: readonly RecordHeader[] | undefined;
}

/** Bytes `writeRecord` will use for `record`. */
export function encodedRecordSize(record: EncodableRecord): number {
  let size = FIXED_BYTES + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  const headers = record.headers;
  if (headers !== undefined) {
    for (const header of headers) {
      size += 2 + Buffer.byteLength(header.key, 'utf8') + 4 + (header.value?.length ?? 0);
    }
  }
  return size;
}

/** Writes `record` into `target` at `at`; returns the position after it. */
export function writeRecord(target: Buffer, at: number, record: EncodableRecord, timestamp: number): number {
  let pos = target.writeUInt8(VERSION, at);
  pos = target.writeDoubleBE(timestamp, pos);
  pos = writeBytes(target, pos, record.key);
  pos = writeBytes(target, pos, record.value);
  const headers = record.headers ?? [];
  pos = target.writeUInt32BE(headers.length, pos);
  for (const header of headers) {
    const nameLength = target.write(header.key, pos + 2, 'utf8');
    target.writeUInt16BE(nameLength, pos);
    pos = writeBytes(target, pos + 2 + nameLength, header.value);
  }
  return pos;
}

/** Decodes a stored record value. `path` only names the log in a corruption error. */
export function readRecord(
  source: Buffer,
  topic: string,
  partition: number,
  offset: number,
  path: string,
): LogRecord {
  if (source.length < FIXED_BYTES || source[0] !== VERSION) {
    throw new LogFormatError(path, `record ${offset} of ${topic}[${partition}] has an unknown encoding`);
  }
  const timestamp = source.readDoubleBE(1);
  let pos = 9;
  const keyLength = source.readInt32BE(pos);
  pos += 4;
  const key = keyLength < 0 ? null : source.subarray(pos, (pos += keyLength));
  const valueLength = source.readInt32BE(pos);
  pos += 4;
  const value = valueLength < 0 ? null : source.subarray(pos, (pos += valueLength));
  const headerCount = source.readUInt32BE(pos);
  pos += 4;
  const headers: RecordHeader[] = [];
  for (let i = 0; i < headerCount; i++) {
    const nameLength = source.readUInt16BE(pos);
    pos += 2;
    const name = source.toString('utf8', pos, (pos += nameLength));
    const headerLength = source.readInt32BE(pos);
    pos += 4;
    headers.push({ key: name, value: headerLength < 0 ? null : source.subarray(pos, (pos += headerLength)) });
  }
  return { topic, partition, offset, key, value, headers, timestamp };
}

/**
 * Stored records of one partition → one record batch in the thread protocol's encoding
 * (shared/protocol/record-batch-codec.ts, little-endian), copying bytes without building
 * record objects. Each stored value becomes a batch record 11 bytes longer: topic index
 * u16, partition u32 and offset f64 are added, the version byte goes, the header count
 * shrinks from u32 to u16, and lengths flip to little-endian.
 */
export function transcodeToRecordBatch(
  topic: string,
  partition: number,
  offsets: readonly number[],
  values: readonly Buffer[],
  path: string,
): EncodedRecords {
  // No records, no topic table: the same 6 bytes encodeRecordBatch([]) gives.
  const topicBytes = values.length === 0 ? Buffer.alloc(0) : Buffer.from(topic, 'utf8');
  let size = 4 + 2 + (values.length === 0 ? 0 : 2 + topicBytes.length);
  for (const value of values) size += value.length + 11;
  const target = Buffer.alloc(size);
  let at = target.writeUInt32LE(values.length, 0);
  at = target.writeUInt16LE(values.length === 0 ? 0 : 1, at);
  if (values.length > 0) {
    at = target.writeUInt16LE(topicBytes.length, at);
    at += topicBytes.copy(target, at);
  }
  for (let i = 0; i < values.length; i++) {
    const source = values[i]!;
    const offset = offsets[i]!;
    if (source.length < FIXED_BYTES || source[0] !== VERSION) {
      throw new LogFormatError(path, `record ${offset} of ${topic}[${partition}] has an unknown encoding`);
    }
    at = target.writeUInt16LE(0, at);
    at = target.writeUInt32LE(partition, at);
    at = target.writeDoubleLE(offset, at);
    at = target.writeDoubleLE(source.readDoubleBE(1), at);
    let pos = 9;
    for (let blob = 0; blob < 2; blob++) {
      const length = source.readInt32BE(pos);
      at = target.writeInt32LE(length, at);
      pos += 4;
      if (length > 0) at = copyBytes(source, pos, (pos += length), target, at);
    }
    const headerCount = source.readUInt32BE(pos);
    pos += 4;
    at = target.writeUInt16LE(headerCount, at);
    for (let h = 0; h < headerCount; h++) {
      const nameLength = source.readUInt16BE(pos);
      at = target.writeUInt16LE(nameLength, at);
      pos += 2;
      at = copyBytes(source, pos, (pos += nameLength), target, at);
      const length = source.readInt32BE(pos);
      at = target.writeInt32LE(length, at);
      pos += 4;
      if (length > 0) at = copyBytes(source, pos, (pos += length), target, at);
    }
  }
  const buffer = target.buffer.slice(target.byteOffset, target.byteOffset + at);
  return { buffer, count: values.length, lastOffset: offsets[offsets.length - 1] ?? -1 };
}

/** Copies `source[start, end)` to `target` at `at`; returns the position after it. */
function copyBytes(source: Buffer, start: number, end: number, target: Buffer, at: number): number {
  // Keys, values and header fields are mostly a few dozen bytes, where Buffer#copy's
  // per-call overhead dominates (it was the coordinator's top cost during recovery).
  if (end - start <= 64) {
    for (let i = start; i < end; i++) target[at++] = source[i]!;
    return at;
  }
  return at + source.copy(target, at, start, end);
}

function writeBytes(target: Buffer, at: number, bytes: Uint8Array | null): number {
  if (bytes === null) return target.writeInt32BE(-1, at);
  const pos = target.writeInt32BE(bytes.length, at);
  target.set(bytes, pos);
  return pos + bytes.length;
}
