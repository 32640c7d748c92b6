/**
 * Messages between `weir bench` and the child process that runs one phase of one run
 * (see bench-child.ts). One process per phase gives each its own peak RSS and CPU clock.
 */
import type { WeirConfig } from '../../config/index.js';
import type { RunSummary } from '../../runtime/app.js';

/** `processing`: run the job on fresh state until idle; `recovery`: same, after the state was dropped. */
export type BenchPhase = 'processing' | 'recovery';

/** Parent → child, once. */
export interface ChildRequest {
  readonly kind: 'start';
  readonly phase: BenchPhase;
  readonly config: WeirConfig;
}

/** What the child measured. */
export interface ChildRunResult {
  readonly summary: RunSummary;
  /** Seconds from the first changelog read to the last applied changelog chunk; null when nothing was recovered. */
  readonly recoverySeconds: number | null;
  /** Seconds from the start of the run (threads starting) to the last applied changelog chunk. */
  readonly secondsUntilRecovered: number | null;
  /** Busy time of the coordinator (main) thread's event loop: its CPU time, measured like the workers'. */
  readonly coordinatorBusySeconds: number;
  /** User + system CPU of the whole process (every thread). */
  readonly processCpuSeconds: number;
  /** Peak resident set size of the child process. */
  readonly peakRssBytes: number;
}

/** Child → parent. */
export type ChildMessage =
  | { readonly kind: 'progress'; readonly phase: BenchPhase; readonly done: number }
  | { readonly kind: 'result'; readonly result: ChildRunResult }
  | { readonly kind: 'failed'; readonly message: string; readonly code: string | undefined };
