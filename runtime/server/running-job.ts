/**
 * What the server sees of a running job: the parts `RunningJob` (app.ts) hands over once
 * they exist, and the questions the server asks of them (ready? how far behind?).
 * The server starts before the job and outlives it by a moment, so it holds the parts
 * only between `attach` and `detach`.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { GroupConsumer, LogBackend } from '../../shared/log/log-backend.js';
import type { Router } from '../router.js';
import type { PartitionLifecycle } from '../partition-lifecycle.js';
import type { WorkerHandle } from '../worker-pool.js';
import type { Checkpointer } from '../checkpointer.js';
import type { OutputStream } from '../output-stream.js';

/** The running job's parts the server reads (never changes). */
export interface RunningJobParts {
  readonly backend: LogBackend;
  readonly consumer: GroupConsumer;
  readonly router: Router;
  readonly lifecycle: PartitionLifecycle;
  readonly workers: readonly WorkerHandle[];
  readonly checkpointer: Checkpointer;
  readonly outputs: OutputStream;
  /** The job's store names (key-value and window stores). */
  readonly stores: readonly string[];
  readonly inputTopics: readonly string[];
  /** The job has failed (it is stopping). */
  readonly isFailed: () => boolean;
  /** The job was asked to stop. */
  readonly isStopping: () => boolean;
}

/** Readiness and why not. */
export interface Readiness {
  readonly ready: boolean;
  /** Why not ready (`starting`, `assigning` (a rebalance), `recovering`, `stopping`, `failed`). */
  readonly reason?: string;
}

/** How often a waiting produce request looks at the lag again. */
const LAG_POLL_MS = 20;

export class RunningJobView {
  #parts: RunningJobParts | undefined;
  #stopped = false;

  attach(parts: RunningJobParts): void {
    this.#parts = parts;
  }

  /** The run has ended (or is ending): not ready any more, nothing is waited for. */
  detach(): void {
    this.#parts = undefined;
    this.#stopped = true;
  }

  get parts(): RunningJobParts | undefined {
    return this.#parts;
  }

  /**
   * Ready once the job runs, has been assigned its partitions and none of them is
   * recovering; not while starting, recovering, failed or stopping.
   */
  readiness(): Readiness {
    const parts = this.#parts;
    if (parts === undefined) return { ready: false, reason: this.#stopped ? 'stopping' : 'starting' };
    if (parts.isFailed()) return { ready: false, reason: 'failed' };
    if (parts.isStopping()) return { ready: false, reason: 'stopping' };
    if (!parts.lifecycle.settled) return { ready: false, reason: parts.lifecycle.recoveringPartitions > 0 ? 'recovering' : 'assigning' };
    return { ready: true };
  }

  /**
   * Records of `topic` in this member's assigned partitions not yet routed to a worker
   * (high watermark − position); 0 when the job does not read `topic` or is not running.
   */
  async lag(topic: string): Promise<number> {
    const parts = this.#parts;
    if (parts === undefined || parts.isStopping() || parts.isFailed()) return 0;
    let lag = 0;
    for (const tp of parts.consumer.assignment()) {
      if (tp.topic !== topic) continue;
      const { high } = await parts.backend.watermarks(tp);
      lag += Math.max(0, high - parts.router.position(tp));
    }
    return lag;
  }

  /**
   * Waits until `topic`'s lag is at most `maxLag` (true) or `waitMs` has passed (false):
   * live produce pushes back instead of letting the backlog grow without limit.
   */
  async waitForLagBelow(topic: string, maxLag: number, waitMs: number): Promise<boolean> {
    const deadline = performance.now() + waitMs;
    for (;;) {
      if ((await this.lag(topic)) <= maxLag) return true;
      if (performance.now() >= deadline || this.#parts === undefined) return false;
      await delay(LAG_POLL_MS);
    }
  }
}
