import { encodeJson } from './json-codec.js';
import { SEPARATOR } from './separator.js';

/**
 * Key bytes of the plain key-value layout (docs/semantics.md §2.2): a prefix (the message key)
 * and a user key, joined as `prefix|key`.
 */

/** Bytes of a message key used as a prefix: a `Uint8Array` verbatim, anything else compact JSON. */
export function encodePrefix(messageKey: unknown): Uint8Array {
  return messageKey instanceof Uint8Array ? messageKey : encodeJson(messageKey);
}

/** Bytes of a user state key: a `Uint8Array` verbatim, anything else compact JSON. */
export function encodeUserKey(key: unknown): Uint8Array {
  return key instanceof Uint8Array ? key : encodeJson(key);
}

/** The stored key `prefix|key`, or just `key` when the prefix is empty. */
export function joinPrefixedKey(prefix: Uint8Array, key: Uint8Array): Uint8Array {
  if (prefix.length === 0) return key;
  const out = Buffer.allocUnsafe(prefix.length + 1 + key.length); // pooled: cheap for small keys
  out.set(prefix, 0);
  out[prefix.length] = SEPARATOR;
  out.set(key, prefix.length + 1);
  return out;
}
