/** Windowed state and window operators (spec §7). */
export { WindowedTransaction } from './windowed-transaction.js';
export type { StoredWindow, ExpiredWindow, ExpireOptions } from './windowed-transaction.js';
export { InvalidWindowDurationError, InvalidTimestampError, InvalidWindowDefinitionError } from './window-errors.js';
export * from './window-keys.js';
