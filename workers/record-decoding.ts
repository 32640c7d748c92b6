/**
 * Turns log records into the `InputRecord`s user code sees: key and value read with the
 * topic's formats (docs/serialization.md; JSON by default, which hands bytes that are not
 * JSON over as their UTF-8 text), headers as UTF-8 strings.
 *
 * Decoding is lazy: a pipeline that never reads `value` (or `headers`) never pays for
 * parsing it, which is most of the per-record cost of simple jobs. Records of strict
 * formats (every format but JSON) are decoded before the pipeline runs instead
 * ({@link decodeEagerly}), so a record that does not deserialize always meets the job's
 * error policy, read or not.
 */
import type { LogRecord, RecordHeader } from '../shared/log/log-backend.js';
import { forEachRecordSpanInSet, recordHeadersAt } from '../shared/protocol/record-batch.js';
import type { InputRecord, JsonValue } from '../shared/pipeline/pipeline-definition.js';
import { DeserializationError, RecordDeserializationError, type RecordField } from '../shared/errors/serialization-errors.js';
import type { Format } from '../shared/serialization/format.js';
import { JsonFormat, decodeJsonOrText } from '../shared/serialization/plain-formats.js';
import type { TopicFormat } from '../shared/serialization/topic-formats.js';

const decoder = new TextDecoder();
const UNSET = Symbol('unset');

/** JSON bytes as a value, other bytes as text; `undefined` for null. */
export function decodeJsonBytes(bytes: Uint8Array | null): JsonValue | undefined {
  return bytes === null ? undefined : (decodeJsonOrText(bytes) as JsonValue);
}

const NO_BYTES = new Uint8Array(0);

class DecodedRecord implements InputRecord {
  #key: JsonValue | undefined | typeof UNSET = UNSET;
  #value: JsonValue | undefined | typeof UNSET = UNSET;
  #headers: Record<string, string> | undefined;
  /** The value's bytes, made a view of the batch at first use (most jobs never read a value). */
  #rawValue: Uint8Array | null | undefined;
  #rawHeaders: readonly RecordHeader[] | undefined;

  /** `batch` and the positions: where the value and headers lie (see `forEachRecordSpanInSet`). */
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    readonly timestamp: number,
    readonly rawKey: Uint8Array | null,
    private readonly batch: Uint8Array,
    private readonly valueAt: number,
    private readonly valueLength: number,
    private readonly headersAt: number,
    private readonly headerCount: number,
    private readonly formats: TopicFormat,
  ) {}

  /** A record whose value and headers are already apart (tests, `toInputRecord`). */
  static of(record: LogRecord, formats: TopicFormat): DecodedRecord {
    const decoded = new DecodedRecord(record.topic, record.partition, record.offset, record.timestamp, record.key, NO_BYTES, 0, -1, 0, 0, formats);
    decoded.#rawValue = record.value;
    decoded.#rawHeaders = record.headers;
    return decoded;
  }

  private get rawValue(): Uint8Array | null {
    if (this.#rawValue === undefined) {
      this.#rawValue = this.valueLength < 0 ? null : this.batch.subarray(this.valueAt, this.valueAt + this.valueLength);
    }
    return this.#rawValue;
  }

  private get rawHeaders(): readonly RecordHeader[] {
    if (this.#rawHeaders === undefined) this.#rawHeaders = recordHeadersAt(this.batch, this.headersAt, this.headerCount);
    return this.#rawHeaders;
  }

  get key(): JsonValue | undefined {
    if (this.#key === UNSET) this.#key = this.read(this.rawKey, this.formats.key, 'key');
    return this.#key;
  }
  get value(): JsonValue | undefined {
    if (this.#value === UNSET) this.#value = this.read(this.rawValue, this.formats.value, 'value');
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
  /** The format the value is read with (dead letters name it). */
  get formatNames(): string {
    return this.formats.key.name === this.formats.value.name ? this.formats.value.name : `${this.formats.key.name} key, ${this.formats.value.name} value`;
  }
  toJSON(): object {
    return { topic: this.topic, partition: this.partition, offset: this.offset, key: this.key, value: this.value, timestamp: this.timestamp, headers: this.headers };
  }

  private read(bytes: Uint8Array | null, format: Format, field: RecordField): JsonValue | undefined {
    if (bytes === null) return undefined;
    try {
      return format.deserialize(bytes) as JsonValue;
    } catch (error) {
      const reason = error instanceof DeserializationError ? error.reason : error instanceof Error ? error.message : String(error);
      throw new RecordDeserializationError(this.topic, this.partition, this.offset, field, format.name, reason, { cause: error });
    }
  }
}

const JSON_FORMATS = new Map<string, TopicFormat>();

/** JSON formats of a topic (records built without configured formats). */
function jsonFormatsOf(topic: string): TopicFormat {
  let formats = JSON_FORMATS.get(topic);
  if (formats === undefined) {
    formats = { key: new JsonFormat({ topic, field: 'key' }), value: new JsonFormat({ topic, field: 'value' }) };
    JSON_FORMATS.set(topic, formats);
  }
  return formats;
}

/** Test support: one log record as the pipeline sees it (the worker decodes whole batch sets with {@link inputRecordsOf}). */
export function toInputRecord(record: LogRecord, formats: TopicFormat = jsonFormatsOf(record.topic)): InputRecord {
  return DecodedRecord.of(record, formats);
}

/** The records of a batch set of `topic`/`partition` as `InputRecord`s (views into the set). */
export function inputRecordsOf(set: ArrayBuffer, topic: string, partition: number, formats: TopicFormat = jsonFormatsOf(topic)): InputRecord[] {
  const records: InputRecord[] = [];
  forEachRecordSpanInSet(set, (batch, offset, timestamp, keyAt, keyLength, valueAt, valueLength, headersAt, headerCount) => {
    const rawKey = keyLength < 0 ? null : batch.subarray(keyAt, keyAt + keyLength);
    records.push(new DecodedRecord(topic, partition, offset, timestamp, rawKey, batch, valueAt, valueLength, headersAt, headerCount, formats));
  });
  return records;
}

/** Reads a record's strict fields now. @throws RecordDeserializationError naming topic, partition, offset and format. */
export type EagerDecoder = (record: InputRecord) => void;

const readKey: EagerDecoder = (record) => void record.key;
const readValue: EagerDecoder = (record) => void record.value;
const readBoth: EagerDecoder = (record) => {
  void record.key;
  void record.value;
};

/**
 * What to decode before the pipeline runs: the fields of strict formats (every format
 * but JSON, which never fails); undefined when both are JSON (lazy, as before formats).
 */
export function eagerDecoderFor(formats: TopicFormat): EagerDecoder | undefined {
  const key = !formats.key.lenient;
  const value = !formats.value.lenient;
  return key && value ? readBoth : key ? readKey : value ? readValue : undefined;
}

/**
 * Fetches what the formats need to read these records synchronously (schemas by id from
 * the registry); resolves at once when nothing is missing.
 * @throws SchemaRegistryUnreachableError when the registry does not answer after its retries.
 */
export async function prepareRecords(records: readonly InputRecord[], formats: TopicFormat): Promise<void> {
  const { key, value } = formats;
  if (key.prepare === undefined && value.prepare === undefined) return;
  const pending: Promise<void>[] = [];
  for (const record of records) {
    if (key.prepare !== undefined && record.rawKey !== null) {
      const p = key.prepare(record.rawKey);
      if (p !== undefined) pending.push(p);
    }
    const raw = rawValueOf(record);
    if (value.prepare !== undefined && raw !== null) {
      const p = value.prepare(raw);
      if (p !== undefined) pending.push(p);
    }
  }
  await Promise.all(pending);
}

/** The original value bytes of a record decoded here, or its value re-encoded as JSON. */
export function rawValueOf(record: InputRecord): Uint8Array | null {
  if (record instanceof DecodedRecord) return record.rawValueBytes;
  return record.value === undefined ? null : new TextEncoder().encode(JSON.stringify(record.value));
}

/** The formats a record was read with, as a dead letter's `weir.format` header names them. */
export function formatNamesOf(record: InputRecord): string {
  return record instanceof DecodedRecord ? record.formatNames : 'json';
}
