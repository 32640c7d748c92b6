import { StateSerializationError } from '../errors/state-errors.js';

/**
 * Compact JSON (no whitespace, UTF-8), the default key and value format (spec §2.3).
 *
 * Accepted: `null`, booleans, finite numbers, strings, arrays and plain objects of
 * those. Rejected with {@link StateSerializationError}, like the reference (orjson):
 * functions, symbols, bigints, non-finite numbers, `undefined` at top level or inside
 * an array (JSON would silently turn it into `null`), and objects that are not plain
 * (`Date`, `Map`, class instances, typed arrays), because they have no faithful JSON
 * form. Object properties whose value is `undefined` are omitted, as JSON does.
 * Note: JavaScript has one number type, so a float with no fraction (`1.0`) encodes
 * as `1`, where Python would write `1.0`.
 */
export function encodeJson(value: unknown): Uint8Array {
  // Fast paths for the common scalar values.
  switch (typeof value) {
    case 'string':
      return Buffer.from(JSON.stringify(value), 'utf8');
    case 'number':
      if (!Number.isFinite(value)) throw new StateSerializationError(`Cannot serialize non-finite number ${value} to JSON`);
      return Buffer.from(String(value), 'latin1');
    case 'boolean':
      return Buffer.from(value ? 'true' : 'false', 'latin1');
    default:
      break;
  }
  if (value === null) return Buffer.from('null', 'latin1');
  assertJsonCompatible(value, '$', new Set());
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw new StateSerializationError(`Cannot serialize value to JSON: ${(cause as Error).message}`, { cause });
  }
  return Buffer.from(text, 'utf8');
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Decodes compact JSON bytes; invalid UTF-8 or JSON → {@link StateSerializationError}. */
export function decodeJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8Decoder.decode(bytes);
  } catch (cause) {
    throw new StateSerializationError(`Cannot deserialize value: invalid UTF-8 (${bytes.length} bytes)`, { cause });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new StateSerializationError(`Cannot deserialize value: invalid JSON (${bytes.length} bytes)`, { cause });
  }
}

function assertJsonCompatible(value: unknown, path: string, seen: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new StateSerializationError(`Cannot serialize non-finite number at ${path}`);
      return;
    case 'undefined':
      throw new StateSerializationError(`Cannot serialize undefined at ${path}`);
    case 'bigint':
      throw new StateSerializationError(`Cannot serialize bigint at ${path}; convert it to a number or string`);
    case 'function':
    case 'symbol':
      throw new StateSerializationError(`Cannot serialize ${typeof value} at ${path}`);
    default:
      break;
  }
  if (value === null) return;
  const object = value as object;
  if (seen.has(object)) throw new StateSerializationError(`Cannot serialize circular structure at ${path}`);
  seen.add(object);
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) assertJsonCompatible(object[i], `${path}[${i}]`, seen);
  } else {
    const proto: unknown = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      const name = (object as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new StateSerializationError(`Cannot serialize ${name} at ${path}: only plain objects and arrays are JSON values`);
    }
    if (Object.getOwnPropertySymbols(object).length > 0) {
      throw new StateSerializationError(`Cannot serialize symbol-keyed property at ${path}`);
    }
    for (const [key, child] of Object.entries(object)) {
      if (child !== undefined) assertJsonCompatible(child, `${path}.${key}`, seen);
    }
  }
  seen.delete(object);
}
