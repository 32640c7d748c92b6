/**
 * Compact binary encoding of a batch of log records, sent between the coordinator
 * and worker threads as one transferable ArrayBuffer. Measured on this machine it is
 * several times faster than structured-cloning arrays of record objects.
 *
 * Layout (little-endian):
 *   u32 recordCount, u16 topicCount, topicCount × (u16 len, utf8 name)
 *   recordCount × (u16 topicIndex, u32 partition, f64 offset, f64 timestamp,
 *                  i32 keyLen (-1 = null), key, i32 valueLen (-1 = null), value,
 *                  u16 headerCount, headerCount × (u16 nameLen, utf8 name, i32 valueLen, value))
 * Offsets and timestamps are f64: exact up to 2^53, far beyond any real offset.
 */
import type { EncodedRecords, LogRecord, RecordHeader } from '../log/log-backend.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * `records` as a reader's {@link EncodedRecords}; `nextOffset` defaults to after the last
 * record (or `fromOffset` when there is none).
 */
export function toEncodedRecords(records: readonly LogRecord[], fromOffset: number, nextOffset?: number): EncodedRecords {
  const lastOffset = records[records.length - 1]?.offset ?? -1;
  return {
    buffer: encodeRecordBatch(records),
    count: records.length,
    lastOffset,
    nextOffset: nextOffset ?? (records.length > 0 ? lastOffset + 1 : fromOffset),
  };
}

/** Encode records into one ArrayBuffer suitable for a transfer list. */
export function encodeRecordBatch(records: readonly LogRecord[]): ArrayBuffer {
  const topicIndex = new Map<string, number>();
  const topicBytes: Uint8Array[] = [];
  const headerNames = new Map<string, Uint8Array>();
  let size = 4 + 2;
  for (const r of records) {
    if (!topicIndex.has(r.topic)) {
      const bytes = encoder.encode(r.topic);
      topicIndex.set(r.topic, topicBytes.length);
      topicBytes.push(bytes);
      size += 2 + bytes.length;
    }
    size += 2 + 4 + 8 + 8 + 4 + (r.key?.length ?? 0) + 4 + (r.value?.length ?? 0) + 2;
    for (const h of r.headers) {
      let name = headerNames.get(h.key);
      if (name === undefined) {
        name = encoder.encode(h.key);
        headerNames.set(h.key, name);
      }
      size += 2 + name.length + 4 + (h.value?.length ?? 0);
    }
  }

  const buffer = new ArrayBuffer(size);
  const view = new DataView(buffer);
  const bytes = new Uint8Array(buffer);
  let pos = 0;
  view.setUint32(pos, records.length, true);
  pos += 4;
  view.setUint16(pos, topicBytes.length, true);
  pos += 2;
  for (const t of topicBytes) {
    view.setUint16(pos, t.length, true);
    bytes.set(t, pos + 2);
    pos += 2 + t.length;
  }
  const writeBlob = (blob: Uint8Array | null): void => {
    if (blob === null) {
      view.setInt32(pos, -1, true);
      pos += 4;
      return;
    }
    view.setInt32(pos, blob.length, true);
    bytes.set(blob, pos + 4);
    pos += 4 + blob.length;
  };
  for (const r of records) {
    view.setUint16(pos, topicIndex.get(r.topic)!, true);
    view.setUint32(pos + 2, r.partition, true);
    view.setFloat64(pos + 6, r.offset, true);
    view.setFloat64(pos + 14, r.timestamp, true);
    pos += 22;
    writeBlob(r.key);
    writeBlob(r.value);
    view.setUint16(pos, r.headers.length, true);
    pos += 2;
    for (const h of r.headers) {
      const name = headerNames.get(h.key)!;
      view.setUint16(pos, name.length, true);
      bytes.set(name, pos + 2);
      pos += 2 + name.length;
      writeBlob(h.value);
    }
  }
  return buffer;
}

/** Decode a batch; keys, values and header values are zero-copy views into `buffer`. */
export function decodeRecordBatch(buffer: ArrayBuffer): LogRecord[] {
  const view = new DataView(buffer);
  const bytes = new Uint8Array(buffer);
  let pos = 0;
  const count = view.getUint32(pos, true);
  const topicCount = view.getUint16(pos + 4, true);
  pos += 6;
  const topics: string[] = [];
  for (let i = 0; i < topicCount; i++) {
    const len = view.getUint16(pos, true);
    topics.push(decoder.decode(bytes.subarray(pos + 2, pos + 2 + len)));
    pos += 2 + len;
  }
  const readBlob = (): Uint8Array | null => {
    const len = view.getInt32(pos, true);
    pos += 4;
    if (len < 0) return null;
    const blob = bytes.subarray(pos, pos + len);
    pos += len;
    return blob;
  };
  const records: LogRecord[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const topic = topics[view.getUint16(pos, true)]!;
    const partition = view.getUint32(pos + 2, true);
    const offset = view.getFloat64(pos + 6, true);
    const timestamp = view.getFloat64(pos + 14, true);
    pos += 22;
    const key = readBlob();
    const value = readBlob();
    const headerCount = view.getUint16(pos, true);
    pos += 2;
    const headers: RecordHeader[] = [];
    for (let h = 0; h < headerCount; h++) {
      const len = view.getUint16(pos, true);
      const name = decoder.decode(bytes.subarray(pos + 2, pos + 2 + len));
      pos += 2 + len;
      headers.push({ key: name, value: readBlob() });
    }
    records[i] = { topic, partition, offset, key, value, headers, timestamp };
  }
  return records;
}
