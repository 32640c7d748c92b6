/**
 * The result of `weir bench`: one document (printed as-is by `--json`) with the input,
 * and per worker count what processing and recovery achieved and cost.
 */
import type { BenchInputDescription } from './bench-input.js';

/** One worker thread's share of a run. */
export interface BenchWorkerCpu {
  readonly workerId: number;
  /** Busy time of the worker thread (its CPU time; see WorkerStats.busyMillis). */
  readonly seconds: number;
  readonly records: number;
}

export interface BenchRecovery {
  /** Changelog records applied while rebuilding the dropped state. */
  readonly records: number;
  /** Replay time: from the first changelog read to the last applied changelog chunk. */
  readonly seconds: number | null;
  /** records / seconds. */
  readonly recordsPerSecond: number | null;
  /** recordsPerSecond / the baseline run's; null without a baseline rate. */
  readonly ratio: number | null;
  /** From the start of the run (threads starting, pipeline loading) until the state was rebuilt. */
  readonly secondsUntilRecovered: number | null;
  readonly peakRssBytes: number;
  /** State on disk after recovery. */
  readonly stateBytes: number;
}

/** One worker count: a processing run on fresh state, then a recovery run. */
export interface BenchRun {
  readonly workers: number;
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  /** recordsPerSecond / the baseline run's. */
  readonly ratio: number;
  readonly cpu: {
    /** Coordinator (main) thread busy time. */
    readonly coordinatorSeconds: number;
    readonly workers: readonly BenchWorkerCpu[];
    /** User + system CPU of the whole process, every thread. */
    readonly processSeconds: number;
  };
  /** Peak RSS of the processing run's process. */
  readonly peakRssBytes: number;
  /** State on disk after processing (every store partition of the job). */
  readonly stateBytes: number;
  readonly changelog: { readonly records: number; readonly bytes: number };
  readonly outputRecords: number;
  readonly checkpoints: number;
  readonly recovery: BenchRecovery;
}

export interface BenchReport {
  readonly bench: 'weir';
  /** The user's config file. */
  readonly config: string;
  readonly appId: string;
  readonly backend: 'local' | 'kafka';
  /** Partitions of the generated input topics. */
  readonly partitions: number;
  readonly processingGuarantee: 'at-least-once' | 'exactly-once';
  readonly input: BenchInputDescription;
  /** Ratios are relative to the run with this many workers (1 if measured, else the first). */
  readonly baselineWorkers: number;
  readonly runs: readonly BenchRun[];
  readonly machine: { readonly cores: number; readonly node: string; readonly platform: string };
  /** ISO time the benchmark started. */
  readonly startedAt: string;
  /** What the user should know about side effects (e.g. topics left on a Kafka cluster). */
  readonly warnings: readonly string[];
  /** Where `--chart` wrote the SVG, when asked. */
  readonly chart?: string;
}

/** A run before ratios are known. */
export type MeasuredRun = Omit<BenchRun, 'ratio' | 'recovery'> & { readonly recovery: Omit<BenchRecovery, 'ratio'> };

/** Adds the ratios to the baseline run (workers = 1 if present, else the first run). */
export function withRatios(runs: readonly MeasuredRun[]): { baselineWorkers: number; runs: BenchRun[] } {
  const baseline = runs.find((r) => r.workers === 1) ?? runs[0];
  if (baseline === undefined) return { baselineWorkers: 1, runs: [] };
  const ratio = (value: number | null, base: number | null): number | null =>
    value === null || base === null || base === 0 ? null : value / base;
  return {
    baselineWorkers: baseline.workers,
    runs: runs.map((run) => ({
      ...run,
      ratio: ratio(run.recordsPerSecond, baseline.recordsPerSecond) ?? 0,
      recovery: { ...run.recovery, ratio: ratio(run.recovery.recordsPerSecond, baseline.recovery.recordsPerSecond) },
    })),
  };
}
