import { decodeBE64, decodeBE64Number, writeBE64 } from './be64.js';
import { SEPARATOR } from './separator.js';

/**
 * Integer key parts (docs/semantics.md §2.3, §2.6, §2.8): pairs `BE64(a)|BE64(b)`, append-integer
 * `base|BE64(n)`, window keys and timestamped keys. Within one prefix these sort
 * lexicographically exactly as their integers sort numerically.
 */

/** Length of an integer pair `BE64(a)|BE64(b)`. */
export const INT_PAIR_LENGTH = 17;

/** Encodes `BE64(a)|BE64(b)` (17 bytes). */
export function encodeIntPair(a: number | bigint, b: number | bigint): Uint8Array {
  const out = new Uint8Array(INT_PAIR_LENGTH);
  writeBE64(out, 0, a);
  out[8] = SEPARATOR;
  writeBE64(out, 9, b);
  return out;
}

/** Decodes a 17-byte integer pair at `offset`. */
export function decodeIntPair(bytes: Uint8Array, offset = 0): [bigint, bigint] {
  if (bytes.length < offset + INT_PAIR_LENGTH || bytes[offset + 8] !== SEPARATOR) {
    throw new RangeError(`Not an integer pair at offset ${offset} (${bytes.length} bytes)`);
  }
  return [decodeBE64(bytes, offset), decodeBE64(bytes, offset + 9)];
}

/** Appends an integer: `base|BE64(n)`. */
export function appendInteger(base: Uint8Array, n: number | bigint): Uint8Array {
  const out = new Uint8Array(base.length + 9);
  out.set(base, 0);
  out[base.length] = SEPARATOR;
  writeBE64(out, base.length + 1, n);
  return out;
}

/** A parsed window key. */
export interface WindowKey {
  readonly prefix: Uint8Array;
  /** Window start in ms. */
  readonly start: number;
  /** Window end in ms. */
  readonly end: number;
}

/**
 * Window key `prefix|BE64(start)|BE64(end)` (docs/semantics.md §2.6). An empty prefix gives just
 * the 17-byte pair, as Quix Streams does (its window scans never find such keys).
 */
export function encodeWindowKey(prefix: Uint8Array, start: number | bigint, end: number | bigint): Uint8Array {
  if (prefix.length === 0) return encodeIntPair(start, end);
  const out = new Uint8Array(prefix.length + 1 + INT_PAIR_LENGTH);
  out.set(prefix, 0);
  out[prefix.length] = SEPARATOR;
  writeBE64(out, prefix.length + 1, start);
  out[prefix.length + 9] = SEPARATOR;
  writeBE64(out, prefix.length + 10, end);
  return out;
}

/** Parses a window key: the last 17 bytes are the pair, everything before the last 18 the prefix. */
export function parseWindowKey(key: Uint8Array): WindowKey {
  const pairAt = key.length - INT_PAIR_LENGTH;
  const withPrefix = key.length > INT_PAIR_LENGTH;
  if (pairAt < 0 || key[pairAt + 8] !== SEPARATOR || (withPrefix && key[pairAt - 1] !== SEPARATOR)) {
    throw new RangeError(`Not a window key (${key.length} bytes)`);
  }
  return {
    prefix: withPrefix ? key.slice(0, pairAt - 1) : new Uint8Array(0),
    start: decodeBE64Number(key, pairAt),
    end: decodeBE64Number(key, pairAt + 9),
  };
}

/** A parsed timestamped key. */
export interface TimestampedKey {
  readonly prefix: Uint8Array;
  /** Timestamp in ms. */
  readonly timestamp: number;
  /** Duplicate counter (0 when duplicates are not kept); may use the full 64 bits. */
  readonly counter: bigint;
}

/** Timestamped key `prefix|BE64(timestamp)|BE64(counter)`, separator always (docs/semantics.md §2.8). */
export function encodeTimestampedKey(prefix: Uint8Array, timestamp: number | bigint, counter: number | bigint): Uint8Array {
  const out = new Uint8Array(prefix.length + 1 + INT_PAIR_LENGTH);
  out.set(prefix, 0);
  out[prefix.length] = SEPARATOR;
  writeBE64(out, prefix.length + 1, timestamp);
  out[prefix.length + 9] = SEPARATOR;
  writeBE64(out, prefix.length + 10, counter);
  return out;
}

/** Parses a timestamped key written by {@link encodeTimestampedKey}. */
export function parseTimestampedKey(key: Uint8Array): TimestampedKey {
  if (key.length < INT_PAIR_LENGTH + 1 || key[key.length - INT_PAIR_LENGTH - 1] !== SEPARATOR) {
    throw new RangeError(`Not a timestamped key (${key.length} bytes)`);
  }
  const pairAt = key.length - INT_PAIR_LENGTH;
  if (key[pairAt + 8] !== SEPARATOR) throw new RangeError(`Not a timestamped key (${key.length} bytes)`);
  return {
    prefix: key.slice(0, pairAt - 1),
    timestamp: decodeBE64Number(key, pairAt),
    counter: decodeBE64(key, pairAt + 9),
  };
}
