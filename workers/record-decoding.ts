/**
 * Turns log records into the `InputRecord`s user code sees: key and value decoded from
 * compact JSON, headers as UTF-8 strings. Bytes that are not JSON are handed over as
 * their UTF-8 text so a pipeline never crashes on decoding alone.
 */
import type { LogRecord } from '../shared/log/log-backend.js';
import type { InputRecord, JsonValue } from '../shared/pipeline/pipeline-definition.js';

const decoder = new TextDecoder();

export function decodeJsonBytes(bytes: Uint8Array | null): JsonValue | undefined {
  if (bytes === null) return undefined;
  const text = decoder.decode(bytes);
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

export function toInputRecord(record: LogRecord): InputRecord {
  const headers: Record<string, string> = {};
  for (const h of record.headers) headers[h.key] = h.value === null ? '' : decoder.decode(h.value);
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: decodeJsonBytes(record.key),
    value: decodeJsonBytes(record.value),
    timestamp: record.timestamp,
    headers,
    rawKey: record.key,
  };
}
