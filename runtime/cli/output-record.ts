/**
 * How `weir topic dump` prints a record: one JSON object per line,
 * `{topic, partition, offset, key, value, timestamp, headers}`.
 *
 * Key and value bytes are decoded as UTF-8 JSON (the inverse of `weir produce`); a null
 * key/value prints as `null`. Bytes that are not valid UTF-8 JSON print instead as a
 * base64 string under `keyBase64` / `valueBase64` (and `key` / `value` are absent), so
 * nothing is lost and a reader can tell the two apart. Headers print as
 * `{name: string}` decoded as UTF-8 (invalid sequences become U+FFFD; a null header
 * value prints as null; for a repeated name the last value wins).
 */
import type { LogRecord } from '../../shared/log/log-backend.js';
import type { Format } from '../../shared/serialization/format.js';
import type { TopicFormat } from '../../shared/serialization/topic-formats.js';
import { addPrintable } from '../../shared/serialization/printable.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

type Decoded = { readonly json: unknown } | { readonly base64: string };

function decodeJson(bytes: Uint8Array): Decoded {
  try {
    return { json: JSON.parse(strictUtf8.decode(bytes)) as unknown };
  } catch {
    return { base64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') };
  }
}

function addField(target: Record<string, unknown>, name: 'key' | 'value', bytes: Uint8Array | null, format: Format | undefined): void {
  if (bytes === null) {
    target[name] = null;
    return;
  }
  if (format !== undefined && format.name !== 'json') {
    // A topic with a configured format: what the pipeline would see; bytes the format cannot read as base64.
    try {
      addPrintable(target, name, format.deserialize(bytes));
    } catch {
      target[`${name}Base64`] = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
    }
    return;
  }
  const decoded = decodeJson(bytes);
  if ('json' in decoded) target[name] = decoded.json;
  else target[`${name}Base64`] = decoded.base64;
}

/**
 * The dump line object of `record` (field order: topic, partition, offset, key, value,
 * timestamp, headers). With `formats` (not JSON), key and value are read with them, bytes
 * print as base64 under `keyBase64`/`valueBase64`; registry formats must have been prepared.
 */
export function toDumpObject(record: LogRecord, formats?: TopicFormat): Record<string, unknown> {
  const out: Record<string, unknown> = { topic: record.topic, partition: record.partition, offset: record.offset };
  addField(out, 'key', record.key, formats?.key);
  addField(out, 'value', record.value, formats?.value);
  out['timestamp'] = record.timestamp;
  // No prototype: a header named `__proto__` (or `constructor`) is an own property like any other,
  // where `{}` would take it as the object's prototype and drop it from the JSON.
  const headers = Object.create(null) as Record<string, string | null>;
  for (const header of record.headers) {
    headers[header.key] = header.value === null ? null : lenientUtf8.decode(header.value);
  }
  out['headers'] = headers;
  return out;
}
