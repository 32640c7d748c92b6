/**
 * One interface for every key and value format of a topic (docs/serialization.md):
 * `deserialize` turns a record's bytes into what the pipeline sees, `serialize` turns
 * what the pipeline emits into bytes. Both are synchronous so a batch runs without an
 * await per record; formats that need the schema registry fetch what a batch needs in
 * `prepare` first (one request per schema id never seen before, then cached).
 */
import type { RecordField } from '../errors/serialization-errors.js';

/** Every format a topic's keys or values may have. */
export const FORMAT_NAMES = ['json', 'string', 'bytes', 'integer', 'double', 'avro', 'protobuf', 'json-schema'] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];

/** The formats whose bytes carry the Confluent Schema Registry wire format (magic byte, schema id). */
export const REGISTRY_FORMATS: ReadonlySet<FormatName> = new Set(['avro', 'protobuf', 'json-schema']);

/** A format as configured (validated, schema path absolute). */
export interface FormatSpec {
  readonly type: FormatName;
  /** Absolute path of a local schema (`.avsc`, `.proto`, JSON Schema): the reader schema on input, the registered one on output. */
  readonly schema?: string;
  /** protobuf: the message type in the schema (required when it declares several). */
  readonly message?: string;
  /** Schema Registry subject; default `<topic>-key` / `<topic>-value` (TopicNameStrategy). */
  readonly subject?: string;
  /** Output: register the schema under the subject when it is not there yet (default true); false ⇒ it must be registered. */
  readonly autoRegister?: boolean;
}

/** The formats of one topic. */
export interface TopicFormatSpecs {
  readonly key: FormatSpec;
  readonly value: FormatSpec;
}

/** The formats of a job's input and output topics, by topic; a topic missing means JSON. */
export interface JobTopicFormats {
  readonly input: Readonly<Record<string, TopicFormatSpecs>>;
  readonly output: Readonly<Record<string, TopicFormatSpecs>>;
}

/** The default of every topic: today's behaviour, JSON keys and values. */
export const JSON_FORMAT: FormatSpec = { type: 'json' };
export const JSON_TOPIC_FORMATS: TopicFormatSpecs = { key: JSON_FORMAT, value: JSON_FORMAT };

/** Where a format instance is used (errors name it). */
export interface FormatTarget {
  readonly topic: string;
  readonly field: RecordField;
}

/** A key or value format of one topic. */
export interface Format {
  /** `avro`, `string`… as errors and `weir.error` headers name it. */
  readonly name: FormatName;
  /**
   * True when `deserialize` never fails (JSON, which hands non-JSON bytes over as text):
   * such records are decoded lazily, when the pipeline reads them. Records of strict
   * formats are decoded before the pipeline runs, so a bad one always meets the error policy.
   */
  readonly lenient: boolean;
  /** Reads one non-null key or value. @throws DeserializationError */
  deserialize(bytes: Uint8Array): unknown;
  /** Writes one non-null key or value. @throws SerializationError */
  serialize(value: unknown): Uint8Array;
  /**
   * What `serialize` writes, as the text whose UTF-8 it is, for formats whose bytes are
   * text (JSON): a record batch writes it without an intermediate byte array.
   * @throws SerializationError
   */
  serializeText?(value: unknown): string;
  /** Fetches what `deserialize` of these bytes needs (writer schemas); undefined when nothing is missing. */
  prepare?(bytes: Uint8Array): Promise<void> | undefined;
  /**
   * True when bytes written by `other` are bytes this format writes for the same value,
   * so an output may reuse an input key's bytes instead of encoding it again.
   */
  sameEncodingAs(other: Format): boolean;
}
