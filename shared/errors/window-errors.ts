/** Errors of window declarations and window state (docs/windows.md, docs/semantics.md §7). */
import { WeirError } from './weir-error.js';

/** A window declaration is invalid; `field` names the offending option. */
export class InvalidWindowDefinitionError extends WeirError {
  constructor(
    readonly window: string,
    readonly field: string,
    reason: string,
  ) {
    super('INVALID_WINDOW_DEFINITION', `${window}: invalid ${field}: ${reason}`);
  }
}

/** A window with `end <= start` was read or written (docs/semantics.md §7.1). */
export class InvalidWindowDurationError extends WeirError {
  constructor(
    readonly start: number,
    readonly end: number,
  ) {
    super('INVALID_WINDOW_DURATION', `Invalid window duration: start ${start}, end ${end} (end must be greater than start)`);
  }
}

/** A window was updated with a negative (or non-integer) event time. */
export class InvalidTimestampError extends WeirError {
  constructor(readonly timestamp: number) {
    super('INVALID_TIMESTAMP', `Timestamp cannot be negative or fractional, got ${timestamp}`);
  }
}

