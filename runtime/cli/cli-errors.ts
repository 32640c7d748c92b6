import { WeirError } from '../../shared/errors/weir-error.js';

/** A line of `weir produce` input is not a valid record. Nothing of the input was appended. */
export class InputLineError extends WeirError {
  /** 1-based line number. */
  readonly line: number;
  /** Offending field (`value`, `headers.trace`), or undefined when the whole line is bad. */
  readonly field: string | undefined;

  constructor(line: number, field: string | undefined, problem: string) {
    super('CLI_INPUT_LINE', `input line ${line}: ${field === undefined ? '' : `${field}: `}${problem}; nothing was appended`);
    this.line = line;
    this.field = field;
  }
}
