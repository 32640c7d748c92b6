/**
 * Byte keys of windowed state (docs/semantics.md §2.5–2.7), as user keys handed to a
 * {@link PartitionTransaction} together with the prefix (the serialized message key).
 *
 * Decision (docs/semantics.md §2.6 quirk): Quix Streams writes a window of an empty prefix as the
 * bare 17-byte pair, which its own `|BE64(start)` range scans never find. Here the
 * separator is always written (`|BE64(start)|BE64(end)` for an empty prefix), like the
 * timestamped key format (§2.8), so windows of a zero-length key work like any other.
 * For every non-empty prefix the bytes equal Quix Streams'.
 */
import { SEPARATOR, encodeIntPair, INT_PAIR_LENGTH } from '../../shared/codecs/index.js';

/** User key of the pair `(a, b)` under `prefix`: the pair, or `|pair` for an empty prefix. */
export function pairUserKey(prefix: Uint8Array, a: number | bigint, b: number | bigint): Uint8Array {
  const pair = encodeIntPair(a, b);
  if (prefix.length > 0) return pair;
  const out = new Uint8Array(INT_PAIR_LENGTH + 1);
  out[0] = SEPARATOR;
  out.set(pair, 1);
  return out;
}

const latin1 = (text: string): Uint8Array => Buffer.from(text, 'latin1');

/** `__latest-timestamps__` key: latest event time seen per message key. */
export const LATEST_TIMESTAMP_KEY = latin1('__latest_timestamp__');
/**
 * `__latest-timestamps__` key (sliding windows, weir only): the key's last record time
 * when `--close-windows` closed its windows; records at or before it are late.
 */
export const CLOSED_THROUGH_KEY = latin1('__closed_through__');
/** `__expiration-index__` key: start of the last expired window (per key), or the partition marker (empty prefix). */
export const EXPIRED_START_KEY = latin1('__expired_start_gt__');
/** `__deletion-index__` key: start of the last deleted window (sliding). */
export const DELETED_START_KEY = latin1('__deleted_start_gt__');
/** `__value-deletion-index__` key: last deleted collection id. */
export const VALUE_DELETED_KEY = latin1('__value_deleted_start_gt__');

/** Windowed store column families (docs/semantics.md §2.1). */
export const LATEST_TIMESTAMPS_CF = '__latest-timestamps__';
export const EXPIRATION_INDEX_CF = '__expiration-index__';
export const DELETION_INDEX_CF = '__deletion-index__';
export const VALUE_DELETION_INDEX_CF = '__value-deletion-index__';
export const VALUES_CF = '__values__';
/**
 * Windows closed by a trigger while collecting (weir only): `prefix|BE64(start)|BE64(end)`
 * → the global counter of the last value the closed window listed. A window re-created
 * in the same range lists only values collected after it (docs/windows.md, triggers).
 */
export const TRIGGER_MARKS_CF = '__trigger-marks__';
