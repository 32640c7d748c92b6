/**
 * Failures of `weir bench` a user can act on. Each names what to fix: the input file,
 * the generator module, the chart path, or the run (worker count and phase) that failed.
 */
import { WeirError } from '../../shared/errors/weir-error.js';

/** The bench input file cannot be read (missing, a directory, no permission). */
export class BenchInputFileError extends WeirError {
  readonly path: string;

  constructor(path: string, reason: string, options?: { cause?: unknown }) {
    super('BENCH_INPUT_FILE', `cannot read bench input file ${path}: ${reason}`, options);
    this.path = path;
  }
}

/** A line of the bench input file is not a valid record; nothing was benchmarked. */
export class BenchInputLineError extends WeirError {
  readonly path: string;
  /** 1-based line number. */
  readonly line: number;

  constructor(path: string, line: number, problem: string, options?: { cause?: unknown }) {
    super('BENCH_INPUT_LINE', `bench input file ${path}: ${problem}`, options);
    this.path = path;
    this.line = line;
  }
}

/** The user's generator module cannot be loaded, or returned something that is not a record. */
export class BenchGeneratorError extends WeirError {
  readonly path: string;

  constructor(path: string, problem: string, options?: { cause?: unknown }) {
    super('BENCH_GENERATOR', `bench generator ${path}: ${problem}`, options);
    this.path = path;
  }
}

/** The chart cannot be written where `--chart` points. */
export class BenchChartPathError extends WeirError {
  readonly path: string;

  constructor(path: string, reason: string, options?: { cause?: unknown }) {
    super('BENCH_CHART_PATH', `cannot write chart ${path}: ${reason}`, options);
    this.path = path;
  }
}

/** One benchmark run (a child process) failed; carries the child's own error message. */
export class BenchRunFailedError extends WeirError {
  readonly workers: number;
  readonly phase: 'processing' | 'recovery';

  constructor(workers: number, phase: 'processing' | 'recovery', detail: string, options?: { cause?: unknown }) {
    super('BENCH_RUN_FAILED', `bench run with ${workers} worker(s) failed during ${phase}: ${detail}`, options);
    this.workers = workers;
    this.phase = phase;
  }
}

/** The benchmark was interrupted (SIGINT/SIGTERM); its temporary files were removed. */
export class BenchInterruptedError extends WeirError {
  constructor() {
    super('BENCH_INTERRUPTED', 'bench interrupted; no report (temporary runs were removed)');
  }
}
