/**
 * One line of `weir produce` input (JSON Lines):
 * `{"key": any JSON, "value": any JSON, "timestamp"?: ms, "headers"?: {name: string}}`.
 *
 * Key and value are encoded as compact JSON bytes, like Quix's JSON serializer: the
 * string key `"a"` becomes the 3 bytes `"a"` (quotes included). A `null` (or absent)
 * key stays a null key, so the record is unkeyed; a `null` value is a null value (a
 * tombstone on a compacted topic). `value` is required: write `null` explicitly.
 * Numbers go through `JSON.parse`, so integers beyond 2^53 lose precision.
 * Header values are UTF-8 strings. Blank lines are skipped.
 */
import { isSaneTimestamp, TIMESTAMP_RANGE_TEXT } from '../../shared/timestamps.js';
import type { AppendRecord, RecordHeader } from '../../shared/log/log-backend.js';
import { InputLineError } from './cli-errors.js';
import type { Format } from '../../shared/serialization/format.js';
import type { TopicFormat } from '../../shared/serialization/topic-formats.js';
import { SerializationError } from '../../shared/errors/serialization-errors.js';

const ALLOWED_FIELDS = new Set(['key', 'value', 'timestamp', 'headers']);
const utf8 = new TextEncoder();

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** What kind of JSON value a line was, without its content (the line may be a file given by mistake). */
function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return 'a string';
  return `a ${typeof value}`;
}

/**
 * JSON.parse's complaint without the excerpt of the input V8 puts in it (`Unexpected
 * token 'h', "hello worl"... is not valid JSON`): a file passed by mistake (a key, a
 * config with secrets) must not have its first characters printed. Positions become
 * 1-based columns.
 */
export function describeJsonSyntaxError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/^Unexpected token/.test(message)) return 'unexpected character';
  const withoutExcerpt = message.replace(/,? ".*" is not valid JSON$/s, '');
  const withColumn = withoutExcerpt.replace(/(?: in JSON)? at position (\d+)$/, (_m, position: string) => ` at column ${Number(position) + 1}`);
  return withColumn.charAt(0).toLowerCase() + withColumn.slice(1);
}

function encodeJson(value: unknown): Uint8Array | null {
  const text = jsonText(value);
  return text === null ? null : utf8.encode(text);
}

/** A line that passed validation: its fields as parsed, before key and value are encoded. */
export interface ValidInputLine {
  /** The parsed key; `null` or `undefined` is a null key. */
  readonly key: unknown;
  /** The parsed value; `null` is a null value. */
  readonly value: unknown;
  readonly timestamp: number | undefined;
  readonly headers: RecordHeader[] | undefined;
}

/**
 * Parses and validates line `lineNumber` (1-based), everything but the encoding of key
 * and value in a topic's format; `undefined` for a blank line.
 * @throws InputLineError naming the line and the field.
 */
export function validateInputLine(text: string, lineNumber: number): ValidInputLine | undefined {
  if (text.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InputLineError(lineNumber, undefined, `invalid JSON (${describeJsonSyntaxError(error)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InputLineError(lineNumber, undefined, `expected a JSON object with "key" and "value", got ${describeKind(parsed)}`);
  }
  const line = parsed as Record<string, unknown>;
  for (const field of Object.keys(line)) {
    if (!ALLOWED_FIELDS.has(field)) {
      throw new InputLineError(lineNumber, field, 'unknown field (allowed: key, value, timestamp, headers)');
    }
  }
  if (!('value' in line)) throw new InputLineError(lineNumber, 'value', 'required (write null for a null value)');

  const timestamp = line['timestamp'];
  if (timestamp !== undefined && !isSaneTimestamp(timestamp)) {
    throw new InputLineError(lineNumber, 'timestamp', `expected ${TIMESTAMP_RANGE_TEXT}, got ${describe(timestamp)}`);
  }

  let headers: RecordHeader[] | undefined;
  const rawHeaders = line['headers'];
  if (rawHeaders !== undefined) {
    if (typeof rawHeaders !== 'object' || rawHeaders === null || Array.isArray(rawHeaders)) {
      throw new InputLineError(lineNumber, 'headers', `expected an object of string values, got ${describe(rawHeaders)}`);
    }
    headers = [];
    for (const [name, value] of Object.entries(rawHeaders)) {
      if (typeof value !== 'string') {
        throw new InputLineError(lineNumber, `headers.${name}`, `expected a string, got ${describe(value)}`);
      }
      headers.push({ key: name, value: utf8.encode(value) });
    }
  }
  return { key: line['key'], value: line['value'], timestamp: timestamp as number | undefined, headers };
}

/**
 * Parses and validates line `lineNumber` (1-based) into a record for `topic`;
 * `undefined` for a blank line.
 * @throws InputLineError naming the line and the field.
 */
export function parseInputLine(text: string, lineNumber: number, topic: string, formats?: TopicFormat): AppendRecord | undefined {
  const line = validateInputLine(text, lineNumber);
  if (line === undefined) return undefined;
  const { headers, timestamp } = line;
  return {
    topic,
    key: encodeWith(formats?.key, line.key, lineNumber, 'key'),
    value: encodeWith(formats?.value, line.value, lineNumber, 'value'),
    ...(headers === undefined ? {} : { headers }),
    ...(timestamp === undefined ? {} : { timestamp }),
  };
}

/**
 * A validated line's key or value as the compact JSON text the JSON format writes (its
 * UTF-8 is what `parseInputLine` encodes); `null` for a null key or value.
 */
export function jsonText(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * A line's key or value in the topic's format: JSON as before formats; `bytes` from a
 * base64 string; other formats by their serializer (null stays a null key / a tombstone).
 */
function encodeWith(format: Format | undefined, value: unknown, lineNumber: number, field: 'key' | 'value'): Uint8Array | null {
  if (format === undefined || format.name === 'json') return encodeJson(value);
  if (value === null || value === undefined) return null;
  let input = value;
  if (format.name === 'bytes') {
    if (typeof value !== 'string' || !BASE64.test(value)) throw new InputLineError(lineNumber, field, `expected a base64 string for the bytes format, got ${describe(value)}`);
    input = new Uint8Array(Buffer.from(value, 'base64'));
  }
  try {
    return format.serialize(input);
  } catch (error) {
    if (error instanceof SerializationError) throw new InputLineError(lineNumber, field, `not ${format.name}: ${error.reason}`);
    throw error;
  }
}
