/**
 * Byte layouts of per-write TTL (docs/semantics.md §6.2): a stamped value is `BE64(expiresAtMs) || value`,
 * the stamp `2^64-1` (the sentinel) meaning "never expires"; an expiry index key is
 * `BE64(expiresAtMs) || stored key`, so the index scans in expiry order.
 */
import { decodeBE64Number, writeBE64 } from './be64.js';

/** Length of the stamp in front of a stamped value. */
export const TTL_STAMP_LENGTH = 8;

/** `expiresAtMs` of a value that never expires (encodes as the sentinel `0xFFFFFFFFFFFFFFFF`). */
export const NEVER_EXPIRES = Number.POSITIVE_INFINITY;

/** `BE64(expiresAtMs) || value`; {@link NEVER_EXPIRES} writes the sentinel. */
export function stampValue(expiresAtMs: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(TTL_STAMP_LENGTH + value.length);
  writeStamp(out, expiresAtMs);
  out.set(value, TTL_STAMP_LENGTH);
  return out;
}

/** The expiry of a stamped value ({@link NEVER_EXPIRES} for the sentinel), `undefined` when shorter than a stamp. */
export function readStamp(stamped: Uint8Array): number | undefined {
  if (stamped.length < TTL_STAMP_LENGTH) return undefined;
  if (isSentinel(stamped)) return NEVER_EXPIRES;
  // Stamps above 2^53 (other than the sentinel) are never written; read them as "never".
  const safeInteger = stamped[0] === 0 && stamped[1]! < 0x20;
  return safeInteger ? decodeBE64Number(stamped) : NEVER_EXPIRES;
}

/**
 * A stamped value as state reads it at TTL clock `clockMs`: its payload and expiry, or
 * `undefined` once expired (expiry at or before the clock) or too short to carry a stamp.
 */
export function readLiveValue(stamped: Uint8Array, clockMs: number): { payload: Uint8Array; expiresAtMs: number } | undefined {
  const expiresAtMs = readStamp(stamped);
  if (expiresAtMs === undefined || expiresAtMs <= clockMs) return undefined;
  return { payload: stampPayload(stamped), expiresAtMs };
}

/** The value without its stamp (a view, not a copy). */
export function stampPayload(stamped: Uint8Array): Uint8Array {
  return stamped.subarray(TTL_STAMP_LENGTH);
}

/** `BE64(expiresAtMs) || storedKey`: the key of an expiry index entry. */
export function encodeExpiryIndexKey(expiresAtMs: number, storedKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(TTL_STAMP_LENGTH + storedKey.length);
  writeBE64(out, 0, expiresAtMs);
  out.set(storedKey, TTL_STAMP_LENGTH);
  return out;
}

/** The expiry and stored key of an index entry key, `undefined` when malformed. */
export function decodeExpiryIndexKey(indexKey: Uint8Array): { expiresAtMs: number; storedKey: Uint8Array } | undefined {
  const expiresAtMs = readStamp(indexKey);
  if (expiresAtMs === undefined || expiresAtMs === NEVER_EXPIRES) return undefined;
  return { expiresAtMs, storedKey: indexKey.subarray(TTL_STAMP_LENGTH) };
}

function writeStamp(target: Uint8Array, expiresAtMs: number): void {
  if (expiresAtMs === NEVER_EXPIRES) target.fill(0xff, 0, TTL_STAMP_LENGTH);
  else writeBE64(target, 0, expiresAtMs);
}

function isSentinel(bytes: Uint8Array): boolean {
  for (let i = 0; i < TTL_STAMP_LENGTH; i++) if (bytes[i] !== 0xff) return false;
  return true;
}
