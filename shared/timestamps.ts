/**
 * The range of record timestamps weir accepts: milliseconds from the epoch to the end of
 * year 9999 (the last instant an ISO 8601 date and a JS `Date` can show). Window code adds
 * durations and grace to timestamps and encodes them as 64-bit keys; 2^53 − 1, say, has no
 * room left and used to stop a windowed job for good.
 */
export const MAX_TIMESTAMP_MS = 253_402_300_799_999;

/** An integer from 0 to {@link MAX_TIMESTAMP_MS}. */
export function isSaneTimestamp(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= MAX_TIMESTAMP_MS;
}

/** How the accepted range reads in an error message. */
export const TIMESTAMP_RANGE_TEXT = `milliseconds since the epoch, an integer from 0 to ${MAX_TIMESTAMP_MS} (the end of year 9999)`;
