/**
 * The formats without a schema: `json` (the default), `string`, `bytes`, `integer` and
 * `double`, byte-compatible with Kafka's (and Quix Streams') serializers of the same names.
 */
import { DeserializationError, SerializationError } from '../errors/serialization-errors.js';
import { encodeJson, isShortAscii, jsonText, latin1Text, plainJsonString } from '../codecs/json-codec.js';
import type { Format, FormatName, FormatTarget } from './format.js';

const lenientUtf8 = new TextDecoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const utf8 = new TextEncoder();

/** JSON bytes as a value; bytes that are not JSON as their UTF-8 text (weir's behaviour before formats). */
export function decodeJsonOrText(bytes: Uint8Array): unknown {
  const plain = plainJsonString(bytes);
  if (plain !== undefined) return plain;
  // Short ASCII (most record values) is its own text: no decoder call, whose setup costs more.
  const text = isShortAscii(bytes) ? latin1Text(bytes) : lenientUtf8.decode(bytes);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Uint8Array) return 'bytes';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** `bytes` read as exactly `width` bytes (the fixed-width formats), or a DeserializationError of `format`. */
function fixedWidth(format: FormatName, bytes: Uint8Array, width: number): DataView {
  if (bytes.length !== width) throw new DeserializationError(format, `expected ${width} bytes, got ${bytes.length}`);
  return new DataView(bytes.buffer, bytes.byteOffset, width);
}

/** `width` new bytes, filled in by `write` (the fixed-width formats). */
function written(width: number, write: (view: DataView) => void): Uint8Array {
  const out = new Uint8Array(width);
  write(new DataView(out.buffer));
  return out;
}

abstract class PlainFormat implements Format {
  abstract readonly name: FormatName;
  readonly lenient: boolean = false;
  constructor(protected readonly target: FormatTarget) {}
  abstract deserialize(bytes: Uint8Array): unknown;
  abstract serialize(value: unknown): Uint8Array;
  sameEncodingAs(other: Format): boolean {
    return other.name === this.name;
  }
  protected refuse(reason: string, cause?: unknown): never {
    throw new SerializationError(this.name, this.target.topic, this.target.field, reason, cause === undefined ? undefined : { cause });
  }
}

/** Compact JSON; reading falls back to text for bytes that are not JSON, so it never fails. */
export class JsonFormat extends PlainFormat {
  readonly name = 'json';
  override readonly lenient = true;
  deserialize(bytes: Uint8Array): unknown {
    return decodeJsonOrText(bytes);
  }
  serialize(value: unknown): Uint8Array {
    try {
      return encodeJson(value);
    } catch (error) {
      return this.refuse((error as Error).message, error);
    }
  }
  serializeText(value: unknown): string {
    try {
      return jsonText(value);
    } catch (error) {
      return this.refuse((error as Error).message, error);
    }
  }
}

/** UTF-8 text (Kafka's StringSerializer); invalid UTF-8 is an error, not U+FFFD. */
export class StringFormat extends PlainFormat {
  readonly name = 'string';
  deserialize(bytes: Uint8Array): string {
    try {
      return strictUtf8.decode(bytes);
    } catch (error) {
      throw new DeserializationError(this.name, `invalid UTF-8 (${bytes.length} bytes)`, { cause: error });
    }
  }
  serialize(value: unknown): Uint8Array {
    if (typeof value !== 'string') this.refuse(`expected a string, got ${describe(value)}`);
    return utf8.encode(value);
  }
}

/** The bytes as they are: the pipeline sees a `Uint8Array` and emits one. */
export class BytesFormat extends PlainFormat {
  readonly name = 'bytes';
  deserialize(bytes: Uint8Array): Uint8Array {
    return bytes;
  }
  serialize(value: unknown): Uint8Array {
    if (!(value instanceof Uint8Array)) this.refuse(`expected a Uint8Array, got ${describe(value)}`);
    return value;
  }
}

/** A 32-bit signed integer, 4 bytes big-endian (Kafka's IntegerSerializer). */
export class IntegerFormat extends PlainFormat {
  readonly name = 'integer';
  deserialize(bytes: Uint8Array): number {
    return fixedWidth(this.name, bytes, 4).getInt32(0, false);
  }
  serialize(value: unknown): Uint8Array {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
      this.refuse(`expected an integer from -2147483648 to 2147483647, got ${typeof value === 'number' ? String(value) : describe(value)}`);
    }
    return written(4, (view) => view.setInt32(0, value, false));
  }
}

/** A 64-bit float, 8 bytes big-endian (Kafka's DoubleSerializer). */
export class DoubleFormat extends PlainFormat {
  readonly name = 'double';
  deserialize(bytes: Uint8Array): number {
    return fixedWidth(this.name, bytes, 8).getFloat64(0, false);
  }
  serialize(value: unknown): Uint8Array {
    if (typeof value !== 'number') this.refuse(`expected a number, got ${describe(value)}`);
    return written(8, (view) => view.setFloat64(0, value, false));
  }
}
