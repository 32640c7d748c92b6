/** Conversion between weir's records and librdkafka's messages. */
import type { MessageHeader } from '@confluentinc/kafka-javascript';
import type { LogRecord, RecordHeader } from '../log-backend.js';
import type { Message } from './rdkafka.js';

const EMPTY_HEADERS: readonly RecordHeader[] = Object.freeze([]);
const EMPTY_BYTES = Buffer.alloc(0);

/** Buffers view the same memory; no copy. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * librdkafka headers, in order. The binding cannot send a null header value, so a null
 * is sent as an empty value (documented in the backend).
 */
export function toKafkaHeaders(headers: readonly RecordHeader[] | undefined): MessageHeader[] | undefined {
  if (headers === undefined || headers.length === 0) return undefined;
  return headers.map((header) => ({ [header.key]: header.value === null ? EMPTY_BYTES : toBuffer(header.value) }));
}

function fromKafkaHeaders(headers: readonly MessageHeader[] | undefined): readonly RecordHeader[] {
  if (headers === undefined || headers.length === 0) return EMPTY_HEADERS;
  const result: RecordHeader[] = [];
  for (const header of headers) {
    for (const key in header) {
      const value = header[key]!;
      result.push({ key, value: typeof value === 'string' ? Buffer.from(value) : value });
    }
  }
  return result;
}

/** A consumed message as a log record; key/value buffers are returned as-is. */
export function toLogRecord(message: Message): LogRecord {
  const key = message.key;
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    key: key === undefined || key === null ? null : typeof key === 'string' ? Buffer.from(key) : key,
    value: message.value ?? null,
    headers: fromKafkaHeaders(message.headers),
    timestamp: message.timestamp ?? 0,
  };
}
