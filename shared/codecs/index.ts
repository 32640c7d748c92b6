/** Byte codecs of the state formats (docs/semantics.md §2): bytes in, bytes out. */
export { SEPARATOR, SEPARATOR_BYTES, concatBytes } from './separator.js';
export { encodeJson, decodeJson } from './json-codec.js';
export { BE64_MAX, writeBE64, encodeBE64, decodeBE64, decodeBE64Number } from './be64.js';
export { encodePrefix, encodeUserKey, joinPrefixedKey } from './state-keys.js';
export {
  INT_PAIR_LENGTH,
  encodeIntPair,
  decodeIntPair,
  appendInteger,
  encodeWindowKey,
  parseWindowKey,
  encodeTimestampedKey,
  parseTimestampedKey,
} from './integer-keys.js';
export type { WindowKey, TimestampedKey } from './integer-keys.js';
export {
  TTL_STAMP_LENGTH,
  NEVER_EXPIRES,
  stampValue,
  readStamp,
  stampPayload,
  readLiveValue,
  encodeExpiryIndexKey,
  decodeExpiryIndexKey,
} from './ttl-stamp.js';
