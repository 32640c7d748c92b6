/**
 * The one binary form of records in weir: a **record batch** (records of one
 * topic-partition, as Kafka stores them) and a **batch set** (consecutive batches of one
 * partition with their base offsets, what a read returns and a worker receives).
 *
 * The local log stores each batch as one LevelDB value, byte for byte; a read copies the
 * stored batches into one batch set (one copy per batch) that is transferred to the owning
 * worker. Workers encode outputs and changelog records as batches that the coordinator
 * appends without looking at records. The layout is documented in docs/data-plane.md.
 *
 * Record batch (little-endian):
 *   u8 magic (=2) · u8 attributes (bit 0: dense, offsets are base … base+count−1)
 *   · u16 reserved · u32 count · u32 lastOffsetDelta
 *   · count × ( u32 offsetDelta · f64 timestamp · i32 keyLen (−1 = null) · key
 *               · i32 valueLen (−1 = null) · value · u16 headerCount
 *               · headerCount × (u16 nameLen · name (UTF-8) · i32 valueLen (−1 = null) · value) )
 *
 * Batch set (little-endian):
 *   u8 magic (=0x5b) · u8 reserved ×3 · f64 fromOffset (records below it are skipped: a
 *   read from inside a batch) · f64 toOffset (records at or above it are skipped: a read
 *   of at most N records that ends inside a batch; +∞ when unbounded)
 *   · repeated ( f64 baseOffset · u32 byteLength · batch bytes )
 *
 * Offsets and timestamps are f64: exact up to 2^53, far beyond any real offset.
 */
import type { AppendRecord, EncodedRecords, LogRecord, RecordHeader } from '../log/log-backend.js';
import { RecordBatchFormatError } from '../errors/log-errors.js';

export const BATCH_MAGIC = 2;
export const BATCH_HEADER_BYTES = 12;
const ATTRIBUTE_DENSE = 1;
export const BATCH_SET_MAGIC = 0x5b;
export const BATCH_SET_HEADER_BYTES = 20;
export const BATCH_SET_ENTRY_HEADER_BYTES = 12;
/** Bytes of a record's fixed fields (offset delta, timestamp, two lengths, header count). */
const RECORD_FIXED_BYTES = 4 + 8 + 4 + 4 + 2;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);


/** A header as the builder takes it: the name as UTF-8 bytes or a string. */
export interface BatchHeader {
  readonly key: string;
  readonly value: Uint8Array | null;
}

/**
 * Writes `text` as UTF-8 into `bytes` at `pos` and returns the end; `bytes` must have room
 * for `3 × text.length` bytes (the most UTF-8 a UTF-16 string takes). Lone surrogates
 * become U+FFFD, as `TextEncoder` writes them. ASCII is copied by a loop: for the short
 * keys and values of records that is several times faster than a call to
 * `TextEncoder.encodeInto`, which takes the rest.
 */
export function writeUtf8(bytes: Uint8Array, pos: number, text: string): number {
  const length = text.length;
  let i = 0;
  for (; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) break;
    bytes[pos++] = code;
  }
  if (i === length) return pos;
  const { written } = encoder.encodeInto(i === 0 ? text : text.slice(i), bytes.subarray(pos));
  return pos + written;
}

/**
 * Builds one record batch, growing its buffer as records are added. Offsets are given as
 * deltas from a base the appender assigns; `add` without a delta appends densely.
 */
export class RecordBatchBuilder {
  private bytes: Uint8Array;
  private view: DataView;
  private pos = BATCH_HEADER_BYTES;
  private records = 0;
  private lastDelta = 0;
  private dense = true;

  constructor(initialBytes = 4096) {
    this.bytes = new Uint8Array(Math.max(initialBytes, 64));
    this.view = new DataView(this.bytes.buffer);
  }

  get count(): number {
    return this.records;
  }

  get byteLength(): number {
    return this.pos;
  }

  /**
   * Appends a record; `offsetDelta` defaults to the record's index (dense). A string key
   * or value is written as its UTF-8 (no intermediate bytes).
   */
  add(
    timestamp: number,
    key: Uint8Array | string | null,
    value: Uint8Array | string | null,
    headers: readonly BatchHeader[] = NO_HEADERS,
    offsetDelta: number = this.records,
  ): void {
    if (offsetDelta !== this.records) this.dense = false;
    // A string's UTF-8 takes at most 3 bytes per UTF-16 unit; the exact length is known once written.
    let size = RECORD_FIXED_BYTES + blobBound(key) + blobBound(value);
    // Header names are written straight from their strings (no array per name and record:
    // every changelog record carries two headers); their UTF-8 length comes from a small
    // cache, so the bound is exact and a builder sized by recordBytesBound never grows.
    size += headerEntriesBytes(headers);
    this.reserve(size);
    const view = this.view;
    let pos = this.pos;
    view.setUint32(pos, offsetDelta, true);
    view.setFloat64(pos + 4, timestamp, true);
    pos = writeBlob(this.bytes, view, pos + 12, key);
    pos = writeBlob(this.bytes, view, pos, value);
    this.pos = writeHeaders(this.bytes, view, pos, headers);
    this.records++;
    this.lastDelta = offsetDelta;
  }

  /**
   * Appends a record whose key is a latin1 string (one char per byte, the form a
   * transaction cache holds state keys in) and whose headers were encoded once by
   * {@link encodeHeaderBlock}: every changelog record of a checkpoint carries the same
   * headers, so they are copied, not written name by name. A string value is written as
   * its UTF-8. Sized by {@link recordBytesWithHeaderBlock}.
   */
  addWithHeaderBlock(timestamp: number, latin1Key: string, value: Uint8Array | string | null, headerBlock: Uint8Array): void {
    // Its offset delta is its index: it keeps the batch dense.
    this.reserve(recordBytesWithHeaderBlock(latin1Key.length, value, headerBlock));
    const view = this.view;
    const bytes = this.bytes;
    let pos = this.pos;
    view.setUint32(pos, this.records, true);
    view.setFloat64(pos + 4, timestamp, true);
    const keyLength = latin1Key.length;
    view.setInt32(pos + 12, keyLength, true);
    pos += 16;
    for (let i = 0; i < keyLength; i++) bytes[pos + i] = latin1Key.charCodeAt(i);
    pos = writeBlob(bytes, view, pos + keyLength, value);
    bytes.set(headerBlock, pos);
    this.pos = pos + headerBlock.length;
    this.lastDelta = this.records;
    this.records++;
  }

  /**
   * Appends a record copied byte for byte from another batch (`source[start, end)`, as
   * {@link forEachRecordKey} reports its span) with a new offset delta: what the log
   * compactor keeps, without decoding its fields.
   */
  addCopy(source: Uint8Array, start: number, end: number, offsetDelta: number): void {
    if (offsetDelta !== this.records) this.dense = false;
    this.reserve(end - start);
    this.bytes.set(source.subarray(start, end), this.pos);
    this.view.setUint32(this.pos, offsetDelta, true);
    this.pos += end - start;
    this.records++;
    this.lastDelta = offsetDelta;
  }

  /** A position to {@link truncate} back to (undoing the records added after it). */
  mark(): BuilderMark {
    return { pos: this.pos, records: this.records, lastDelta: this.lastDelta, dense: this.dense };
  }

  truncate(mark: BuilderMark): void {
    this.pos = mark.pos;
    this.records = mark.records;
    this.lastDelta = mark.lastDelta;
    this.dense = mark.dense;
  }

  /**
   * The finished batch: a view of exactly its bytes (its `buffer` may be larger). The
   * builder must not be used afterwards.
   */
  finish(): Uint8Array {
    const view = this.view;
    view.setUint8(0, BATCH_MAGIC);
    view.setUint8(1, this.dense ? ATTRIBUTE_DENSE : 0);
    view.setUint16(2, 0, true);
    view.setUint32(4, this.records, true);
    view.setUint32(8, this.lastDelta, true);
    return this.bytes.subarray(0, this.pos);
  }

  /** The finished batch in an ArrayBuffer of its own, ready for a transfer list (no copy when the builder was sized exactly). */
  finishTransferable(): ArrayBuffer {
    const bytes = this.finish();
    return bytes.byteLength === bytes.buffer.byteLength
      ? (bytes.buffer as ArrayBuffer)
      : (bytes.buffer as ArrayBuffer).slice(0, bytes.byteLength);
  }

  /**
   * The finished batch copied into an ArrayBuffer of exactly its size (ready for a
   * transfer list); the builder is emptied and keeps its buffer for the next batch, so a
   * batch costs one allocation of its own size, not a builder's worth as well.
   */
  takeTransferable(): ArrayBuffer {
    const copy = this.finish().slice().buffer as ArrayBuffer;
    this.truncate(EMPTY_BATCH);
    return copy;
  }

  /** Bytes the builder's buffer holds, used or not. */
  get capacity(): number {
    return this.bytes.byteLength;
  }

  private reserve(size: number): void {
    if (this.pos + size <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.pos + size));
    grown.set(this.bytes.subarray(0, this.pos));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }
}

/**
 * UTF-8 length of header names: a job uses a handful (every changelog record carries the
 * same two), so each is measured once. Bounded.
 */
const HEADER_NAME_CACHE_LIMIT = 1024;
const headerNameLengths = new Map<string, number>();

function headerNameBytes(name: string): number {
  let length = headerNameLengths.get(name);
  if (length === undefined) {
    if (headerNameLengths.size >= HEADER_NAME_CACHE_LIMIT) headerNameLengths.clear();
    length = encoder.encode(name).length;
    headerNameLengths.set(name, length);
  }
  return length;
}

/** Most bytes a record takes in a batch (exact for byte keys and values): for sizing a builder up front. */
export function recordBytesBound(key: Uint8Array | string | null, value: Uint8Array | string | null, headers: readonly BatchHeader[] = NO_HEADERS): number {
  return RECORD_FIXED_BYTES + blobBound(key) + blobBound(value) + headerEntriesBytes(headers);
}

/**
 * A record's headers as a batch holds them (their count, then each name and value): for
 * {@link RecordBatchBuilder.addWithHeaderBlock}, which copies it into every record.
 */
export function encodeHeaderBlock(headers: readonly BatchHeader[]): Uint8Array {
  const block = new Uint8Array(2 + headerEntriesBytes(headers));
  writeHeaders(block, new DataView(block.buffer), 0, headers);
  return block;
}

/** Bytes of a record's header entries (names and values, not their count); exact. */
function headerEntriesBytes(headers: readonly BatchHeader[]): number {
  let size = 0;
  for (let i = 0; i < headers.length; i++) size += 2 + headerNameBytes(headers[i]!.key) + 4 + (headers[i]!.value?.length ?? 0);
  return size;
}

/** Writes a record's headers at `pos` (their count, then each name and value); returns the end. */
function writeHeaders(bytes: Uint8Array, view: DataView, pos: number, headers: readonly BatchHeader[]): number {
  view.setUint16(pos, headers.length, true);
  pos += 2;
  for (let i = 0; i < headers.length; i++) {
    const header = headers[i]!;
    const nameEnd = writeUtf8(bytes, pos + 2, header.key);
    view.setUint16(pos, nameEnd - pos - 2, true);
    pos = writeBlob(bytes, view, nameEnd, header.value);
  }
  return pos;
}

/** Writes a key, value or header value at `pos` (its length, −1 for null, then its bytes); returns the end. */
function writeBlob(bytes: Uint8Array, view: DataView, pos: number, blob: Uint8Array | string | null): number {
  if (blob === null) {
    view.setInt32(pos, -1, true);
    return pos + 4;
  }
  if (typeof blob === 'string') {
    const end = writeUtf8(bytes, pos + 4, blob);
    view.setInt32(pos, end - pos - 4, true);
    return end;
  }
  view.setInt32(pos, blob.length, true);
  bytes.set(blob, pos + 4);
  return pos + 4 + blob.length;
}

/**
 * Bytes a record added by {@link RecordBatchBuilder.addWithHeaderBlock} takes: exactly
 * for a byte value, at most for a string (3 bytes per UTF-16 unit).
 */
export function recordBytesWithHeaderBlock(keyLength: number, value: Uint8Array | string | null, headerBlock: Uint8Array): number {
  // The fixed bytes count the header count, which the block holds.
  return RECORD_FIXED_BYTES - 2 + keyLength + blobBound(value) + headerBlock.length;
}

/** Most bytes a key or value takes in a batch (a string: 3 per UTF-16 unit). */
function blobBound(blob: Uint8Array | string | null): number {
  if (blob === null) return 0;
  return typeof blob === 'string' ? 3 * blob.length : blob.length;
}

/** A builder position (see {@link RecordBatchBuilder.mark}). */
export interface BuilderMark {
  readonly pos: number;
  readonly records: number;
  readonly lastDelta: number;
  readonly dense: boolean;
}

/** A builder's position before its first record: {@link RecordBatchBuilder.truncate} to it empties the builder. */
const EMPTY_BATCH: BuilderMark = { pos: BATCH_HEADER_BYTES, records: 0, lastDelta: 0, dense: true };

/** The fixed header of a batch. */
export interface BatchInfo {
  readonly count: number;
  readonly lastOffsetDelta: number;
  readonly dense: boolean;
}

/** Reads a batch's header; throws {@link RecordBatchFormatError} on foreign bytes. */
export function batchInfo(batch: Uint8Array): BatchInfo {
  if (batch.byteLength < BATCH_HEADER_BYTES || batch[0] !== BATCH_MAGIC) {
    throw new RecordBatchFormatError(`not a record batch (magic ${batch[0] ?? 'missing'}, ${batch.byteLength} bytes)`);
  }
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  return {
    count: view.getUint32(4, true),
    lastOffsetDelta: view.getUint32(8, true),
    dense: (view.getUint8(1) & ATTRIBUTE_DENSE) !== 0,
  };
}

/** One record of a batch, as the visitor of {@link forEachRecord} sees it (views into the batch). */
export interface BatchRecord {
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: readonly RecordHeader[];
}

/**
 * Where one record's fields lie in its batch: a negative length is a null key or value;
 * `headerCount` headers start at `headersAt`.
 */
type FieldPositions = [keyAt: number, keyLength: number, valueAt: number, valueLength: number, headersAt: number, headerCount: number];

/** A record as {@link walkRecords} reports it: its fields' positions, then where it ends. */
type RecordVisitor = (offsetDelta: number, timestamp: number, ...fieldsAndEnd: [...FieldPositions, end: number]) => boolean | void;

/**
 * Walks the records of `batch` in order: the one place that reads a record's layout.
 * Headers are stepped over, not decoded; `visit` returning `false` ends the walk.
 */
function walkRecords(batch: Uint8Array, view: DataView, visit: RecordVisitor): void {
  const count = batchInfo(batch).count;
  let pos = BATCH_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const offsetDelta = view.getUint32(pos, true);
    const timestamp = view.getFloat64(pos + 4, true);
    const keyLength = view.getInt32(pos + 12, true);
    const keyAt = pos + 16;
    pos = keyAt + (keyLength > 0 ? keyLength : 0);
    const valueLength = view.getInt32(pos, true);
    const valueAt = pos + 4;
    pos = valueAt + (valueLength > 0 ? valueLength : 0);
    const headerCount = view.getUint16(pos, true);
    pos += 2;
    const headersAt = pos;
    for (let h = 0; h < headerCount; h++) {
      pos += 2 + view.getUint16(pos, true);
      const length = view.getInt32(pos, true);
      pos += 4 + (length > 0 ? length : 0);
    }
    if (visit(offsetDelta, timestamp, keyAt, keyLength, valueAt, valueLength, headersAt, headerCount, pos) === false) return;
  }
}

/** The `count` headers of a record starting at `at` (values are views into the batch). */
function decodeHeaders(batch: Uint8Array, view: DataView, at: number, count: number): RecordHeader[] {
  const headers: RecordHeader[] = [];
  let pos = at;
  for (let h = 0; h < count; h++) {
    const nameLength = view.getUint16(pos, true);
    const name = decoder.decode(batch.subarray(pos + 2, pos + 2 + nameLength));
    pos += 2 + nameLength;
    const length = view.getInt32(pos, true);
    pos += 4;
    headers.push({ key: name, value: length < 0 ? null : batch.subarray(pos, pos + length) });
    if (length > 0) pos += length;
  }
  return headers;
}

/**
 * A record as {@link forEachRecordSpanInSet} reports it: its batch, offset, timestamp and
 * where its fields lie (read the headers with {@link recordHeadersAt}).
 */
export type RecordSpanVisitor = (batch: Uint8Array, offset: number, timestamp: number, ...fields: FieldPositions) => void;

/** The `count` headers of a record of `batch` starting at `at` (values are views into the batch). */
export function recordHeadersAt(batch: Uint8Array, at: number, count: number): readonly RecordHeader[] {
  return count === 0 ? NO_HEADERS : decodeHeaders(batch, new DataView(batch.buffer, batch.byteOffset, batch.byteLength), at, count);
}

/** {@link forEachRecord} without building the record: where its fields lie. */
function forEachRecordSpan(batch: Uint8Array, baseOffset: number, fromOffset: number, toOffset: number, visit: RecordSpanVisitor): void {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  // Records are variable-length, so even a dense batch is walked to the first wanted
  // record; skipped records are stepped over, not decoded.
  walkRecords(batch, view, (offsetDelta, timestamp, keyAt, keyLength, valueAt, valueLength, headersAt, headerCount) => {
    const offset = baseOffset + offsetDelta;
    if (offset < fromOffset) return true;
    if (offset >= toOffset) return false;
    visit(batch, offset, timestamp, keyAt, keyLength, valueAt, valueLength, headersAt, headerCount);
    return true;
  });
}

/**
 * Calls `visit` for every record of `batch` at or after `fromOffset`. Keys, values and
 * header values are views into the batch (no copy). The record object is fresh per call.
 */
export function forEachRecord(
  batch: Uint8Array,
  baseOffset: number,
  fromOffset: number,
  visit: (record: BatchRecord) => void,
  toOffset = Number.POSITIVE_INFINITY,
): void {
  // One view for the batch's headers (changelog records, recovery's hot path, carry some).
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  forEachRecordSpan(batch, baseOffset, fromOffset, toOffset, (b, offset, timestamp, keyAt, keyLength, valueAt, valueLength, headersAt, headerCount) =>
    visit({
      offset,
      timestamp,
      key: keyLength < 0 ? null : b.subarray(keyAt, keyAt + keyLength),
      value: valueLength < 0 ? null : b.subarray(valueAt, valueAt + valueLength),
      headers: headerCount === 0 ? NO_HEADERS : decodeHeaders(b, view, headersAt, headerCount),
    }),
  );
}

/**
 * Records of `batch` at or after `fromOffset` and below `toOffset` (counted without
 * decoding when the batch is dense).
 */
export function countFrom(batch: Uint8Array, baseOffset: number, fromOffset: number, toOffset = Number.POSITIVE_INFINITY): number {
  const info = batchInfo(batch);
  const last = baseOffset + info.lastOffsetDelta;
  if (fromOffset <= baseOffset && toOffset > last) return info.count;
  if (info.dense) return Math.max(0, Math.min(last + 1, toOffset) - Math.max(baseOffset, fromOffset));
  let n = 0;
  forEachRecord(batch, baseOffset, fromOffset, () => n++, toOffset);
  return n;
}

/**
 * Calls `visit` for every record of `batch` with its offset, where its key lies in the
 * batch (`keyAt`, `keyLength`, −1 for a null key), its timestamp, whether its value is
 * null and the record's whole span `[start, end)` in the batch, without decoding headers
 * or building objects (the log compactor's scan and copy).
 */
export function forEachRecordKey(
  batch: Uint8Array,
  baseOffset: number,
  visit: (offset: number, keyAt: number, keyLength: number, timestamp: number, valueIsNull: boolean, start: number, end: number) => void,
): void {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  walkRecords(batch, view, (offsetDelta, timestamp, keyAt, keyLength, _valueAt, valueLength, _headersAt, _headerCount, end) => {
    // The fixed fields before the key: offset delta, timestamp, key length.
    visit(baseOffset + offsetDelta, keyAt, keyLength, timestamp, valueLength < 0, keyAt - 16, end);
  });
}

/** A stored batch with its base offset, as a batch set carries it. */
export interface BaseBatch {
  readonly baseOffset: number;
  readonly batch: Uint8Array;
}

/**
 * Copies `batches` (in offset order) into one batch set; records below `fromOffset` are
 * left for the reader to skip. One copy per batch.
 */
export function buildBatchSet(
  fromOffset: number,
  batches: readonly BaseBatch[],
  toOffset = Number.POSITIVE_INFINITY,
): ArrayBuffer {
  let size = BATCH_SET_HEADER_BYTES;
  for (const b of batches) size += BATCH_SET_ENTRY_HEADER_BYTES + b.batch.byteLength;
  const buffer = new ArrayBuffer(size);
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  view.setUint8(0, BATCH_SET_MAGIC);
  view.setFloat64(4, fromOffset, true);
  view.setFloat64(12, toOffset, true);
  let pos = BATCH_SET_HEADER_BYTES;
  for (const b of batches) {
    view.setFloat64(pos, b.baseOffset, true);
    view.setUint32(pos + 8, b.batch.byteLength, true);
    bytes.set(b.batch, pos + 12);
    pos += 12 + b.batch.byteLength;
  }
  return buffer;
}

/** The batches of a batch set (views, no copy) and the offset range it covers. */
export function batchesOf(set: ArrayBuffer | Uint8Array): { fromOffset: number; toOffset: number; batches: BaseBatch[] } {
  const bytes = set instanceof Uint8Array ? set : new Uint8Array(set);
  if (bytes.byteLength === 0) return { fromOffset: 0, toOffset: Number.POSITIVE_INFINITY, batches: [] };
  if (bytes.byteLength < BATCH_SET_HEADER_BYTES || bytes[0] !== BATCH_SET_MAGIC) {
    throw new RecordBatchFormatError(`not a record batch set (magic ${bytes[0] ?? 'missing'})`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fromOffset = view.getFloat64(4, true);
  const toOffset = view.getFloat64(12, true);
  const batches: BaseBatch[] = [];
  let pos = BATCH_SET_HEADER_BYTES;
  while (pos < bytes.byteLength) {
    const baseOffset = view.getFloat64(pos, true);
    const length = view.getUint32(pos + 8, true);
    batches.push({ baseOffset, batch: bytes.subarray(pos + 12, pos + 12 + length) });
    pos += 12 + length;
  }
  return { fromOffset, toOffset, batches };
}

/** Calls `visit` for every record of a batch set at or after its `fromOffset`. */
export function forEachRecordInSet(set: ArrayBuffer | Uint8Array, visit: (record: BatchRecord) => void): void {
  const { fromOffset, toOffset, batches } = batchesOf(set);
  for (const b of batches) forEachRecord(b.batch, b.baseOffset, fromOffset, visit, toOffset);
}

/**
 * Calls `visit` for every record of a batch set at or after its `fromOffset` with where
 * its fields lie, building no object per record: for a reader that makes views only of
 * the fields it reads (the worker's input records, whose values most jobs never read).
 */
export function forEachRecordSpanInSet(set: ArrayBuffer | Uint8Array, visit: RecordSpanVisitor): void {
  const { fromOffset, toOffset, batches } = batchesOf(set);
  for (const b of batches) forEachRecordSpan(b.batch, b.baseOffset, fromOffset, toOffset, visit);
}

/** A batch set's records as `LogRecord`s of `topic`/`partition` (views into the set). */
export function decodeBatchSet(set: ArrayBuffer | Uint8Array, topic: string, partition: number): LogRecord[] {
  const out: LogRecord[] = [];
  forEachRecordInSet(set, (r) => out.push({ topic, partition, offset: r.offset, key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp }));
  return out;
}

/** One batch set holding `records` (one batch; offsets as given, base = the first). */
export function encodeBatchSet(records: readonly Pick<LogRecord, 'offset' | 'timestamp' | 'key' | 'value' | 'headers'>[]): ArrayBuffer {
  if (records.length === 0) return buildBatchSet(0, []);
  const base = records[0]!.offset;
  const builder = new RecordBatchBuilder();
  for (const r of records) builder.add(r.timestamp, r.key, r.value, r.headers, r.offset - base);
  return buildBatchSet(base, [{ baseOffset: base, batch: builder.finish() }]);
}

/**
 * `records` (of one partition, in offset order) as a reader's {@link EncodedRecords}: one
 * batch set; `nextOffset` defaults to after the last record (or `fromOffset` when none).
 */
export function toEncodedRecords(records: readonly LogRecord[], fromOffset: number, nextOffset?: number): EncodedRecords {
  const lastOffset = records[records.length - 1]?.offset ?? -1;
  return {
    buffer: encodeBatchSet(records),
    count: records.length,
    lastOffset,
    nextOffset: nextOffset ?? (records.length > 0 ? lastOffset + 1 : fromOffset),
  };
}

/** The records of an encoded batch as `AppendRecord`s to `topic`/`partition` (views into the batch). */
export function appendRecordsOf(topic: string, partition: number, batch: Uint8Array): AppendRecord[] {
  const out: AppendRecord[] = [];
  forEachRecord(batch, 0, 0, (r) => out.push({ topic, partition, key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp }));
  return out;
}

/**
 * `set` without its records below `offset`: the same bytes with the set's `fromOffset`
 * raised (records below it are skipped by every reader) and the count recounted; `undefined`
 * when no record is left. No copy when nothing is cut.
 */
export function batchSetFrom<T extends EncodedRecords>(set: T, offset: number): T | undefined {
  const { fromOffset, toOffset, batches } = batchesOf(set.buffer);
  if (offset <= fromOffset) return set;
  if (set.count === 0 || set.lastOffset < offset) return undefined;
  let count = 0;
  for (const b of batches) count += countFrom(b.batch, b.baseOffset, offset, toOffset);
  if (count === 0) return undefined;
  const buffer = set.buffer.slice(0);
  new DataView(buffer).setFloat64(4, offset, true);
  return { ...set, buffer, count };
}

/** The offset a batch set was read from (its first record is at or after it). */
export function batchSetFromOffset(set: ArrayBuffer): number {
  if (set.byteLength < BATCH_SET_HEADER_BYTES) return 0;
  return new DataView(set).getFloat64(4, true);
}
