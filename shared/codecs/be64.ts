/**
 * `BE64`: 8-byte big-endian unsigned 64-bit integers (docs/semantics.md §2.3). Their byte
 * order equals their numeric order, which is what makes range scans over time work.
 */

/** Largest value `BE64` can hold. */
export const BE64_MAX = (1n << 64n) - 1n;

const TWO_POW_32 = 2 ** 32;

/** Writes `BE64(n)` into `target` at `offset`. Numbers must be safe integers ≥ 0; bigints 0..2^64-1. */
export function writeBE64(target: Uint8Array, offset: number, n: number | bigint): void {
  let hi: number;
  let lo: number;
  if (typeof n === 'number') {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new RangeError(`BE64 needs an unsigned safe integer, got ${n}`);
    }
    hi = Math.floor(n / TWO_POW_32);
    lo = n >>> 0;
  } else {
    if (n < 0n || n > BE64_MAX) throw new RangeError(`BE64 needs a value in 0..2^64-1, got ${n}`);
    hi = Number(n >> 32n);
    lo = Number(n & 0xffffffffn);
  }
  target[offset] = hi >>> 24;
  target[offset + 1] = (hi >>> 16) & 0xff;
  target[offset + 2] = (hi >>> 8) & 0xff;
  target[offset + 3] = hi & 0xff;
  target[offset + 4] = lo >>> 24;
  target[offset + 5] = (lo >>> 16) & 0xff;
  target[offset + 6] = (lo >>> 8) & 0xff;
  target[offset + 7] = lo & 0xff;
}

/** Encodes `n` as 8 big-endian bytes. */
export function encodeBE64(n: number | bigint): Uint8Array {
  const out = new Uint8Array(8);
  writeBE64(out, 0, n);
  return out;
}

function readHalves(bytes: Uint8Array, offset: number): [number, number] {
  if (offset < 0 || bytes.length < offset + 8) {
    throw new RangeError(`BE64 needs 8 bytes at offset ${offset}, got ${bytes.length - offset}`);
  }
  const hi = ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
  const lo = ((bytes[offset + 4]! << 24) | (bytes[offset + 5]! << 16) | (bytes[offset + 6]! << 8) | bytes[offset + 7]!) >>> 0;
  return [hi, lo];
}

/** Decodes 8 big-endian bytes at `offset` as a bigint (full 64-bit range). */
export function decodeBE64(bytes: Uint8Array, offset = 0): bigint {
  const [hi, lo] = readHalves(bytes, offset);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** Decodes 8 big-endian bytes at `offset` as a number; throws if above 2^53-1. */
export function decodeBE64Number(bytes: Uint8Array, offset = 0): number {
  const [hi, lo] = readHalves(bytes, offset);
  const n = hi * TWO_POW_32 + lo;
  if (hi >= 0x200000) throw new RangeError(`BE64 value ${decodeBE64(bytes, offset)} exceeds Number.MAX_SAFE_INTEGER`);
  return n;
}
