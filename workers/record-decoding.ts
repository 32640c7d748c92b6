/**
 * Turns log records into the `InputRecord`s user code sees: key and value decoded from
 * compact JSON, headers as UTF-8 strings. Bytes that are not JSON are handed over as
 * their UTF-8 text so a pipeline never crashes on decoding alone.
 *
 * Decoding is lazy: a pipeline that never reads `value` (or `headers`) never pays for
 * parsing it, which is most of the per-record cost of simple jobs.
 */
import type { LogRecord, RecordHeader } from '../shared/log/log-backend.js';
import { forEachRecordInSet } from '../shared/protocol/record-batch.js';
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

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    readonly timestamp: number,
    readonly rawKey: Uint8Array | null,
    private readonly rawValue: Uint8Array | null,
    private readonly rawHeaders: readonly RecordHeader[],
  ) {}

  get key(): JsonValue | undefined {
    if (this.#key === UNSET) this.#key = decodeJsonBytes(this.rawKey);
    return this.#key;
  }
  get value(): JsonValue | undefined {
    if (this.#value === UNSET) this.#value = decodeJsonBytes(this.rawValue);
    return this.#value;
  }
  get headers(): Readonly<Record<string, string>> {
    if (this.#headers === undefined) {
      this.#headers = {};
      for (const h of this.rawHeaders) this.#headers[h.key] = h.value === null ? '' : decoder.decode(h.value);
    }
    return this.#headers;
  }
  /** The original bytes of the value (dead letters keep them). */
  get rawValueBytes(): Uint8Array | null {
    return this.rawValue;
  }
  toJSON(): object {
    return { topic: this.topic, partition: this.partition, offset: this.offset, key: this.key, value: this.value, timestamp: this.timestamp, headers: this.headers };
  }
}

export function toInputRecord(record: LogRecord): InputRecord {
  return new DecodedRecord(record.topic, record.partition, record.offset, record.timestamp, record.key, record.value, record.headers);
}

/** The records of a batch set of `topic`/`partition` as `InputRecord`s (views into the set). */
export function inputRecordsOf(set: ArrayBuffer, topic: string, partition: number): InputRecord[] {
  const records: InputRecord[] = [];
  forEachRecordInSet(set, (r) => records.push(new DecodedRecord(topic, partition, r.offset, r.timestamp, r.key, r.value, r.headers)));
  return records;
}

/** The original value bytes of a record decoded here, or its value re-encoded as JSON. */
export function rawValueOf(record: InputRecord): Uint8Array | null {
  if (record instanceof DecodedRecord) return record.rawValueBytes;
  return record.value === undefined ? null : new TextEncoder().encode(JSON.stringify(record.value));
}
