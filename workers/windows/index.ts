/** Windowed state and window operators (spec §7). */
export { WindowedTransaction } from './windowed-transaction.js';
export type { StoredWindow, ExpiredWindow, ExpireOptions } from './windowed-transaction.js';
export { InvalidWindowDurationError, InvalidTimestampError, InvalidWindowDefinitionError } from './window-errors.js';
export * from './window-keys.js';
export { WindowAggregationRunner } from './window-aggregation.js';
export type { WindowInput, WindowResult, WindowOutput, WindowOperator, WarningSink } from './window-operator.js';
export { windowRanges } from './window-ranges.js';
export { TimeWindowOperator } from './time-window-operator.js';
export { SlidingWindowOperator } from './sliding-window-operator.js';
export { CountWindowOperator } from './count-window-operator.js';
export { SessionWindowOperator } from './session-window-operator.js';
export { createWindowOperator } from './create-window-operator.js';
