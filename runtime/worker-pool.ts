/**
 * The worker threads: a piscina pool of exactly `workers` threads, each running one
 * long-lived task (`workers/worker-task.ts`) that receives a control port (comlink)
 * and a data port (record batches) and serves until told to close.
 */
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { wrap, type Remote } from 'comlink';
import { nodeEndpoint } from '../shared/protocol/comlink-node-endpoint.js';
import type { DataMessage, EncodedBatch, PreparedWork, RoutedBatchSet, WorkerControl, WorkerInit, WorkerTaskInput } from '../shared/protocol/worker-protocol.js';
import { ControlCallCounter } from '../shared/protocol/control-calls.js';
import { WorkerFailedError } from '../shared/errors/runtime-errors.js';
import { batchSetFromOffset } from '../shared/protocol/record-batch.js';
import { clearCoordinatorFlagsForWorkers } from './coordinator-heap.js';

/** A batch set posted to a worker, as the watchdog sees it. */
export interface PostedBatch {
  readonly topic: string;
  readonly partition: number;
  /** The offset the set starts from. */
  readonly fromOffset: number;
  /** performance.now() when it became the worker's oldest batch. */
  postedAt: number;
}

// A CommonJS entry (see workers/worker-entry.cts) that imports the ESM task.
const taskFile = fileURLToPath(new URL('../workers/worker-entry.cjs', import.meta.url));

/**
 * Control calls that fail once the worker thread is gone: a dead thread never answers a
 * comlink call, so every call races the thread's death.
 */
function raceWithDeath(remote: Remote<WorkerControl>, death: Promise<never>, calls: ControlCallCounter): WorkerControl {
  return new Proxy({} as WorkerControl, {
    get(_target, method: string | symbol) {
      return (...args: unknown[]) => {
        // Counted so the worker yields to answer it mid-batch (shared/protocol/control-calls.ts).
        const call = calls.track(() => (remote as unknown as Record<string | symbol, (...a: unknown[]) => Promise<unknown>>)[method]!(...args));
        return Promise.race([call, death]);
      };
    },
  });
}

/** Coordinator-side handle of one worker thread. */
export class WorkerHandle {
  /** Records posted but not yet reported processed. */
  inFlight = 0;
  /** Bytes of the batch sets posted but not yet reported processed. */
  inFlightBytes = 0;
  /** Bytes the worker holds for the next checkpoint, as it last reported. */
  pendingBytes = 0;
  /** Batch sets routed to this worker and not posted yet (see {@link flushRouted}). */
  private routed: RoutedBatchSet[] = [];
  recordsProcessed = 0;
  /** Batch sets posted and not yet processed, oldest first: what the watchdog looks at. */
  private readonly posted: PostedBatch[] = [];
  /** Typed control calls; each rejects if the worker thread dies first. */
  readonly control: WorkerControl;
  private nextPrepareId = 0;
  private readonly prepares = new Map<number, { resolve: (work: PreparedWork) => void; reject: (error: Error) => void }>();
  private readonly drainWaiters: Array<{ level: number; bytes: number; resolve: () => void }> = [];
  private markDead!: (error: Error) => void;
  private readonly death: Promise<never>;

  constructor(
    readonly id: number,
    remote: Remote<WorkerControl>,
    private readonly dataPort: MessagePort,
    private readonly onFailure: (error: WorkerFailedError) => void,
    private readonly onOutputs: (batches: readonly EncodedBatch[]) => void,
    /** Control calls in flight, shared with the worker thread. */
    readonly controlCalls: ControlCallCounter = new ControlCallCounter(),
  ) {
    this.death = new Promise<never>((_resolve, reject) => (this.markDead = reject));
    this.death.catch(() => undefined);
    this.control = raceWithDeath(remote, this.death, controlCalls);
    dataPort.on('message', (message: DataMessage) => this.receive(message));
  }

  /**
   * Prepare a checkpoint: the worker prepares after the batches already posted and before
   * any posted later, so routing need not stop (see the `prepare` data message).
   * `partitions`: only those (a slice); absent: every partition with work.
   */
  prepare(partitions?: readonly number[]): Promise<PreparedWork> {
    // The checkpoint is cut after every set routed so far (the port keeps message order).
    this.flushRouted();
    const id = this.nextPrepareId++;
    const reply = new Promise<PreparedWork>((resolve, reject) => this.prepares.set(id, { resolve, reject }));
    const message: DataMessage = partitions === undefined ? { type: 'prepare', id } : { type: 'prepare', id, partitions };
    this.dataPort.postMessage(message);
    return Promise.race([reply, this.death]);
  }

  /** The thread is gone: fail pending and future control calls, wake every waiter. */
  died(error: Error): void {
    this.markDead(error);
    this.releaseWaiters();
  }

  /**
   * Route one batch set of `count` records of `topic`/`partition` to this worker: it is
   * counted in flight now and posted (its buffer transferred) by the next {@link flushRouted},
   * with the other sets routed to this worker by the same poll.
   */
  queueRouted(topic: string, partition: number, count: number, buffer: ArrayBuffer): void {
    this.inFlight += count;
    this.inFlightBytes += buffer.byteLength;
    this.posted.push({ topic, partition, fromOffset: batchSetFromOffset(buffer), postedAt: performance.now() });
    this.routed.push({ topic, partition, count, buffer });
  }

  /** Posts the batch sets routed since the last call as one message. */
  flushRouted(): void {
    if (this.routed.length === 0) return;
    const sets = this.routed;
    this.routed = [];
    const message: DataMessage = { type: 'records', sets };
    this.dataPort.postMessage(message, sets.map((set) => set.buffer));
  }

  /**
   * The batch the worker is on (the oldest posted, not yet processed) and since when it
   * is its turn: when it was posted or when the batch before it finished.
   */
  oldestInFlight(): PostedBatch | undefined {
    return this.posted[0];
  }

  /** Resolves once every posted record has been processed. */
  drained(): Promise<void> {
    return this.belowOrDrained(0);
  }

  /** Resolves once at most `level` records are in flight. */
  belowOrDrained(level: number, bytes = Number.POSITIVE_INFINITY): Promise<void> {
    if (this.below(level, bytes)) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push({ level, bytes, resolve }));
  }

  /** At most `level` records and `bytes` bytes in flight (nothing at all for level 0). */
  below(level: number, bytes = Number.POSITIVE_INFINITY): boolean {
    return this.inFlight <= level && (this.inFlightBytes <= bytes || this.inFlight === 0);
  }

  /** Wake every waiter (used when the job fails so nobody waits forever). */
  releaseWaiters(): void {
    for (const w of this.drainWaiters.splice(0)) w.resolve();
  }

  private wakeWaiters(): void {
    for (let i = this.drainWaiters.length - 1; i >= 0; i--) {
      const w = this.drainWaiters[i]!;
      if (this.below(w.level, w.bytes)) {
        this.drainWaiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  private receive(message: DataMessage): void {
    if (message.type === 'processed') {
      this.inFlight -= message.count;
      this.inFlightBytes -= message.bytes;
      this.posted.splice(0, message.sets);
      const next = this.posted[0];
      if (next !== undefined) next.postedAt = performance.now();
      this.pendingBytes = message.pendingBytes;
      this.recordsProcessed += message.count;
      if (message.outputs.length > 0) this.onOutputs(message.outputs);
      this.wakeWaiters();
    } else if (message.type === 'prepared' || message.type === 'prepare-failed') {
      const waiter = this.prepares.get(message.id);
      this.prepares.delete(message.id);
      if (message.type === 'prepared') waiter?.resolve(message.work);
      else {
        waiter?.reject(new WorkerFailedError(this.id, undefined, undefined, undefined, `checkpoint prepare failed: ${message.message}`, message.stack));
      }
    } else if (message.type === 'failed') {
      this.onFailure(
        new WorkerFailedError(this.id, message.topic, message.partition, message.offset, message.message, message.stack),
      );
    }
  }

  close(): void {
    this.dataPort.close();
  }
}


/** Heap limits of each worker thread (Node's `resourceLimits`), MB. */
export interface WorkerHeapLimits {
  /** Old generation: also sets how far V8 lets the heap grow past its live size (see CONFIG_DEFAULTS). */
  readonly maxOldGenerationMb: number;
  readonly maxYoungGenerationMb: number;
}

/** A running pool of worker threads. */
export class WorkerPool {
  /**
   * Resolves when a thread has exited. A thread's state databases are closed by its
   * environment's teardown, which ends before 'exit': until then their LevelDB locks are
   * held, so closing waits for it (a crashed thread is no longer piscina's to wait for).
   */
  private readonly exits = new Map<Worker, Promise<void>>();

  private constructor(
    private readonly pool: Piscina,
    readonly workers: readonly WorkerHandle[],
    private readonly tasks: readonly Promise<unknown>[],
  ) {
    this.trackThreads();
  }

  /** Notes the pool's current threads (the first ones, and replacements of crashed ones). */
  private trackThreads(): void {
    for (const thread of this.pool.threads) {
      if (!this.exits.has(thread)) this.exits.set(thread, new Promise((resolve) => thread.once('exit', () => resolve())));
    }
  }

  /** Wait (bounded) until every thread this pool ever had has exited. */
  private async threadsExited(timeoutMs = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(this.exits.values()), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  /**
   * Start `inits.length` threads. `onFailure` receives processing failures reported by a
   * worker and crashes of a worker thread itself (the task promise rejecting).
   */
  static start(
    inits: readonly WorkerInit[],
    onFailure: (error: WorkerFailedError) => void,
    onOutputs: (batches: readonly EncodedBatch[]) => void,
    heapLimits?: WorkerHeapLimits,
  ): WorkerPool {
    if (heapLimits !== undefined) clearCoordinatorFlagsForWorkers();
    const pool = new Piscina({
      filename: taskFile,
      ...(heapLimits === undefined
        ? {}
        : {
            resourceLimits: {
              maxOldGenerationSizeMb: heapLimits.maxOldGenerationMb,
              maxYoungGenerationSizeMb: heapLimits.maxYoungGenerationMb,
            },
          }),
      minThreads: inits.length,
      maxThreads: inits.length,
      concurrentTasksPerWorker: 1,
      idleTimeout: Number.POSITIVE_INFINITY,
      atomics: 'disabled',
      maxQueue: inits.length,
    });
    const handles: WorkerHandle[] = [];
    const tasks: Promise<unknown>[] = [];
    for (const init of inits) {
      const control = new MessageChannel();
      const data = new MessageChannel();
      const remote = wrap<WorkerControl>(nodeEndpoint(control.port1));
      const handle = new WorkerHandle(init.workerId, remote, data.port1, onFailure, onOutputs);
      handles.push(handle);
      const input: WorkerTaskInput = { init, controlPort: control.port2, dataPort: data.port2, controlCalls: handle.controlCalls.buffer };
      const task = pool.run(input, { transferList: [control.port2, data.port2] }).then(
        () => handle.died(new WorkerFailedError(init.workerId, undefined, undefined, undefined, 'worker thread has stopped')),
        (error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          const failure = new WorkerFailedError(init.workerId, undefined, undefined, undefined, `worker thread crashed: ${message}`,
            error instanceof Error ? error.stack : undefined);
          onFailure(failure);
          handle.died(failure);
        },
      );
      tasks.push(task);
    }
    return new WorkerPool(pool, handles, tasks);
  }

  /** Ask every worker to close, wait for their tasks to end, then stop the threads. */
  async close(timeoutMs = 30_000): Promise<void> {
    // A crashed worker never answers; bound the wait so shutdown cannot hang.
    const closing = Promise.allSettled([...this.workers.map((w) => w.control.close()), ...this.tasks]);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    await Promise.race([closing, timeout]);
    clearTimeout(timer);
    for (const w of this.workers) w.close();
    this.trackThreads();
    await this.pool.destroy();
    await this.threadsExited();
  }

  /** Stop the threads without asking (after a crash). */
  async destroy(): Promise<void> {
    for (const w of this.workers) {
      w.releaseWaiters();
      w.close();
    }
    this.trackThreads();
    await this.pool.destroy();
    await this.threadsExited();
  }
}
