/** Window operators (docs/semantics.md §7) over the state of workers/state/windowed-transaction.ts. */
export { InvalidWindowDefinitionError } from '../../shared/pipeline/windows.js';
export { WindowAggregationRunner } from './window-aggregation.js';
export { RecordWindowInput } from './window-operator.js';
export type { WindowInput, WindowResult, WindowOutput, WindowOperator, WarningSink } from './window-operator.js';
export { windowRanges } from './window-ranges.js';
export { TimeWindowOperator } from './time-window-operator.js';
export { SlidingWindowOperator } from './sliding-window-operator.js';
export { CountWindowOperator } from './count-window-operator.js';
export { SessionWindowOperator } from './session-window-operator.js';
export { createWindowOperator } from './create-window-operator.js';
