/**
 * Turns log records into the `InputRecord`s user code sees: key and value decoded from
 * compact JSON, headers as UTF-8 strings. Bytes that are not JSON are handed over as
 * their UTF-8 text so a pipeline never crashes on decoding alone.
 *
 * Decoding is lazy: a pipeline that never reads `value` (or `headers`) never pays for
 * parsing it, which is most of the per-record cost of simple jobs.
 */
import type { LogRecord } from '../shared/log/log-backend.js';
import type { InputRecord, JsonValue } from '../shared/pipeline/pipeline-definition.js';

const decoder = new TextDecoder();
const UNSET = Symbol('unset');

export function decodeJsonBytes(bytes: Uint8Array | null): JsonValue | undefined {
  if (bytes === null) return undefined;
  const text = decoder.decode(bytes);
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

class DecodedRecord implements InputRecord {
  #key: JsonValue | undefined | typeof UNSET = UNSET;
  #value: JsonValue | undefined | typeof UNSET = UNSET;
  #headers: Record<string, string> | undefined;

  constructor(private readonly record: LogRecord) {}

  get topic(): string {
    return this.record.topic;
  }
  get partition(): number {
    return this.record.partition;
  }
  get offset(): number {
    return this.record.offset;
  }
  get timestamp(): number {
    return this.record.timestamp;
  }
  get rawKey(): Uint8Array | null {
    return this.record.key;
  }
  get key(): JsonValue | undefined {
    if (this.#key === UNSET) this.#key = decodeJsonBytes(this.record.key);
    return this.#key;
  }
  get value(): JsonValue | undefined {
    if (this.#value === UNSET) this.#value = decodeJsonBytes(this.record.value);
    return this.#value;
  }
  get headers(): Readonly<Record<string, string>> {
    if (this.#headers === undefined) {
      this.#headers = {};
      for (const h of this.record.headers) this.#headers[h.key] = h.value === null ? '' : decoder.decode(h.value);
    }
    return this.#headers;
  }
  toJSON(): object {
    return { topic: this.topic, partition: this.partition, offset: this.offset, key: this.key, value: this.value, timestamp: this.timestamp, headers: this.headers };
  }
}

export function toInputRecord(record: LogRecord): InputRecord {
  return new DecodedRecord(record);
}
