/**
 * The coordinator: wires the log backend, the StateManager, the worker pool, routing,
 * recovery and checkpoints into one running job.
 *
 * One loop does everything that talks to the log, in order: poll → route → (maybe)
 * checkpoint. A checkpoint's first phase (prepare) is a message each worker handles after
 * the batches routed before it; its second phase (append, commit, flush) runs in the
 * background (Checkpointer), so routing never stops for a checkpoint. Partitions come and
 * go through the PartitionLifecycle: new ones stay paused while they recover from their
 * changelogs and the others keep processing.
 */
import { performance } from 'node:perf_hooks';
import { CONFIG_DEFAULTS, type WeirConfig } from '../config/index.js';
import type { GroupConsumer, LogBackend, LogProducer, PartitionReader } from '../shared/log/log-backend.js';
import type { WorkerInit, WorkerStats } from '../shared/protocol/worker-protocol.js';
import { loadPipeline } from '../shared/pipeline/pipeline-loader.js';
import { storeNames, windowStoreNames } from '../shared/pipeline/pipeline-definition.js';
import {
  InputTopicNotFoundError,
  StopTimeoutError,
  TopicPartitionsMismatchError,
  WorkerStuckError,
} from '../shared/errors/runtime-errors.js';
import { StateManager } from './state-manager.js';
import { WorkerAssignment } from './worker-assignment.js';
import { PartitionLifecycle } from './partition-lifecycle.js';
import { WorkerPool } from './worker-pool.js';
import { Router } from './router.js';
import { Checkpointer } from './checkpointer.js';
import { CheckpointSchedule, type CheckpointCut } from './checkpoint-schedule.js';
import { OutputStream } from './output-stream.js';
import { threadCpuMillis } from '../shared/thread-cpu.js';
import { RecoveryRunner, type RecoveryProgress } from './recovery-runner.js';
import type { RunningJobParts } from './server/running-job.js';
import { decideLogFormat, loggingConfig, weirLog, type LogContext } from '../shared/logging/weir-log.js';
import { CommitRejectedError } from '../shared/errors/log-errors.js';


/** What `App.create` learnt from the log for every run. */
interface JobTopology {
  /** Worker threads to start: the configured count, capped at the input's partition count. */
  readonly workers: number;
  /** Partition count of every output and dead-letter topic. */
  readonly topicPartitions: Readonly<Record<string, number>>;
  /** The pipeline has windows (the workers' default young generation depends on it). */
  readonly windowed?: boolean;
}

export interface RunOptions {
  /** Stop cleanly, with a final checkpoint, once every assigned partition has been read to its end. */
  readonly untilIdle?: boolean;
  /**
   * With `untilIdle`: once the input is read to its end, close every open window and emit
   * it as a final result, in the final checkpoint (docs/windows.md). Not done when the run
   * stops for another reason (signal, failure).
   */
  readonly closeWindows?: boolean;
  /** With `untilIdle`: after this long without records a run not at its end logs what it waits for, and again after each such period. Default 30 s. */
  readonly idleWaitReportMs?: number;
  /** Stop when aborted (SIGINT/SIGTERM wiring lives in the CLI). */
  readonly signal?: AbortSignal;
  readonly onRecoveryProgress?: (progress: RecoveryProgress) => void;
  /** Called about once a second with the running total of processed records. */
  readonly onThroughput?: (recordsProcessed: number, elapsedSeconds: number) => void;
  readonly log?: (message: string) => void;
  /** A worker busy with one batch longer than this stops the job (WorkerStuckError). Default: config `processingTimeout`. */
  readonly processingTimeoutMs?: number;
  /** After the stop signal, a run that has not ended within this stops without a final checkpoint. Default: config `shutdownTimeout`. */
  readonly shutdownTimeoutMs?: number;
  /** The job's parts, once they exist (the server reads them); the returned function is called when the run ends. */
  readonly onRunning?: (parts: RunningJobParts) => (() => void) | void;
}

export interface WorkerSummary {
  readonly workerId: number;
  readonly records: number;
  readonly recordsRecovered: number;
  /** CPU time of the worker thread (shared/thread-cpu.ts). */
  readonly cpuSeconds: number;
}

export interface RunSummary {
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  readonly recoveredRecords: number;
  readonly checkpoints: number;
  /** Changelog records appended by this run's checkpoints, and the bytes of their batches. */
  readonly changelogRecords: number;
  readonly changelogBytes: number;
  /** Records emitted to output (and dead-letter) topics. */
  readonly outputRecords: number;
  /** Peak resident set size of the process so far (all threads), in bytes. */
  readonly peakRssBytes: number;
  /** Worker threads this run used (the configured count, capped at the partition count). */
  readonly workerCount: number;
  /** CPU time of the coordinator thread (shared/thread-cpu.ts). */
  readonly coordinatorCpuSeconds: number;
  readonly workers: readonly WorkerSummary[];
}

export class App {
  private constructor(
    private readonly config: WeirConfig,
    private readonly backend: LogBackend,
    private readonly stateManager: StateManager,
    private readonly topology: JobTopology = { workers: config.workers, topicPartitions: {} },
  ) {}

  /** Validate the job against the log (topics exist, co-partitioned) and prepare topics and state. */
  static async create(config: WeirConfig, backend: LogBackend): Promise<App> {
    const pipeline = await loadPipeline(config.pipeline);
    const stateManager = new StateManager({
      appId: config.appId,
      stateDir: config.state.dir,
      inputTopics: config.input.topics,
      stores: storeNames(pipeline),
      changelogEnabled: config.state.changelog,
    });
    const partitions = await new App(config, backend, stateManager).inputPartitionCount();
    await stateManager.prepareDirectory();
    await stateManager.ensureChangelogTopics(backend, partitions);
    const topicPartitions: Record<string, number> = {};
    for (const topic of [...config.output.topics, ...(config.errors.deadLetterTopic ? [config.errors.deadLetterTopic] : [])]) {
      let description = await backend.describeTopic(topic);
      if (description === undefined) {
        await backend.createTopic(topic, config.partitions);
        description = await backend.describeTopic(topic);
      }
      topicPartitions[topic] = description?.partitions ?? config.partitions;
    }
    // A worker owns whole partitions: more workers than partitions would idle.
    const workers = Math.min(config.workers, partitions);
    if (workers < config.workers) {
      weirLog.info(`workers = ${config.workers} but the input has ${partitions} partitions; running ${workers} workers`);
    }
    return new App(config, backend, stateManager, { workers, topicPartitions, windowed: windowStoreNames(pipeline).size > 0 });
  }

  get state(): StateManager {
    return this.stateManager;
  }

  private async inputPartitionCount(): Promise<number> {
    const counts: Record<string, number> = {};
    for (const topic of this.config.input.topics) {
      const description = await this.backend.describeTopic(topic);
      if (description === undefined) throw new InputTopicNotFoundError(topic);
      counts[topic] = description.partitions;
    }
    const distinct = new Set(Object.values(counts));
    if (distinct.size > 1) throw new TopicPartitionsMismatchError(counts);
    return [...distinct][0]!;
  }

  /** Run the job until stopped (signal), idle (`untilIdle`) or failed. */
  async run(options: RunOptions = {}): Promise<RunSummary> {
    const job = new RunningJob(this.config, this.backend, this.stateManager, this.topology, options);
    return job.run();
  }
}

/** How long `--until-idle` waits without records before it says what it waits for (and again after each such period). */
const IDLE_WAIT_REPORT_MS = 30_000;

/** One run of the job: owns the pool, consumer, producer and reader for its lifetime. */
class RunningJob {
  private readonly assignment: WorkerAssignment;
  private pool!: WorkerPool;
  private consumer!: GroupConsumer;
  private producer!: LogProducer;
  private reader!: PartitionReader;
  private router!: Router;
  private outputs!: OutputStream;
  private checkpointer!: Checkpointer;
  private recovery!: RecoveryRunner;
  private failure: Error | undefined;
  private lifecycle!: PartitionLifecycle;
  /** The loop has ended: the run is finishing, and partitions are no longer taken up again. */
  private finishing = false;
  /** The loop's checkpoint while its workers prepare (see {@link beginCheckpoint}). */
  private beginning: Promise<void> | undefined;

  constructor(
    private readonly config: WeirConfig,
    private readonly backend: LogBackend,
    private readonly stateManager: StateManager,
    private readonly topology: JobTopology,
    private readonly options: RunOptions,
  ) {
    this.assignment = new WorkerAssignment(topology.workers);
  }

  private fail(error: Error): void {
    if (this.failure === undefined) this.failure = error;
    for (const w of this.pool?.workers ?? []) w.releaseWaiters();
    // A stuck worker never answers: stop its thread so nothing waits on it.
    if (error instanceof WorkerStuckError || error instanceof StopTimeoutError) void this.pool?.destroy().catch(() => undefined);
  }

  /**
   * Once a second: a worker on one batch for longer than the processing timeout fails the
   * job, naming the batch; after the stop signal, a run still going after the shutdown
   * timeout is ended the same way.
   */
  private startWatchdog(): NodeJS.Timeout {
    const processingMs = this.options.processingTimeoutMs ?? this.config.processingTimeout * 1000;
    const shutdownMs = this.options.shutdownTimeoutMs ?? this.config.shutdownTimeout * 1000;
    let stopSignalAt: number | undefined;
    const timer = setInterval(() => {
      if (this.failure !== undefined || this.pool === undefined) return;
      const now = performance.now();
      for (const w of this.pool.workers) {
        const oldest = w.oldestInFlight();
        if (oldest !== undefined && now - oldest.postedAt > processingMs) {
          this.fail(new WorkerStuckError(w.id, oldest.topic, oldest.partition, oldest.fromOffset, Math.round(processingMs / 1000)));
          return;
        }
      }
      if (this.options.signal?.aborted === true) {
        stopSignalAt ??= now;
        if (now - stopSignalAt > shutdownMs) {
          const busy = this.pool.workers
            .map((w) => ({ w, oldest: w.oldestInFlight() }))
            .filter(({ oldest }) => oldest !== undefined)
            .map(({ w, oldest }) => `worker ${w.id} on ${oldest!.topic}[${oldest!.partition}] from offset ${oldest!.fromOffset}`);
          this.fail(new StopTimeoutError(Math.round(shutdownMs / 1000), busy.length > 0 ? busy.join(', ') : 'no batch in flight'));
        }
      }
    }, Math.min(1000, Math.max(10, Math.floor(Math.min(processingMs, shutdownMs) / 4))));
    timer.unref();
    return timer;
  }

  async run(): Promise<RunSummary> {
    const started = performance.now();
    // process.cpuUsage() counts every thread: the coordinator's own CPU time is read per thread.
    const cpuStart = threadCpuMillis().millis;
    this.pool = WorkerPool.start(
      this.workerInits(),
      (error) => this.fail(error),
      (batches) => this.outputs.append(batches),
      {
        maxOldGenerationMb: this.config.limits.workerMaxOldGenerationMb,
        maxYoungGenerationMb:
          this.config.limits.workerMaxYoungGenerationMb ??
          (this.topology.windowed === true ? CONFIG_DEFAULTS.limitWindowedWorkerMaxYoungGenerationMb : CONFIG_DEFAULTS.limitWorkerMaxYoungGenerationMb),
      },
    );
    this.producer = await this.backend.producer();
    this.outputs = new OutputStream(this.producer, (error) => this.fail(error));
    this.reader = await this.backend.reader();
    this.consumer = await this.backend.consumer(this.config.appId, { autoOffsetReset: this.config.input.autoOffsetReset });
    this.recovery = new RecoveryRunner(this.backend, this.reader, {
      ...(this.options.onRecoveryProgress ? { onProgress: this.options.onRecoveryProgress } : {}),
    });
    this.router = new Router(this.consumer, this.pool.workers, this.assignment, {
      highWaterBytes: this.config.limits.workerInFlightBytes,
      outputHighWaterBytes: this.config.limits.pendingOutputBytes,
      pendingOutputBytes: () => this.outputs.pendingBytes,
      outputsDrained: () => this.outputs.flushed(),
    });
    this.checkpointer = new Checkpointer(this.pool.workers, this.producer, this.consumer, {
      group: this.config.appId,
      exactlyOnce: this.config.processingGuarantee === 'exactly-once',
      outputs: this.outputs,
      onCommitted: (offsets) => {
        for (const o of offsets) this.router.markCommitted(o);
      },
      onFailure: (error) => this.fail(error),
      onRejected: (error) => {
        // Finishing: the final checkpoint meets the refusal and reports it; the next run reads the records again.
        if (this.finishing) return;
        this.log(`${error.message}; taking the partitions up again from their committed offsets`);
        this.lifecycle.redoFromCommitted().catch((e: unknown) => this.fail(e instanceof Error ? e : new Error(String(e))));
      },
    });
    this.lifecycle = new PartitionLifecycle(this.assignment, {
      config: this.config,
      backend: this.backend,
      consumer: this.consumer,
      stateManager: this.stateManager,
      workers: this.pool.workers,
      router: this.router,
      recovery: this.recovery,
      checkpointer: this.checkpointer,
      checkpoint: () => this.checkpoint(),
      isFailed: () => this.failure !== undefined,
      fail: (error) => this.fail(error),
      log: (message, context) => this.log(message, context),
    });

    let stats: WorkerStats[] = [];
    const watchdog = this.startWatchdog();
    const stopServing = this.options.onRunning?.({
      backend: this.backend,
      consumer: this.consumer,
      router: this.router,
      lifecycle: this.lifecycle,
      workers: this.pool.workers,
      checkpointer: this.checkpointer,
      outputs: this.outputs,
      stores: this.stateManager.stores,
      inputTopics: this.config.input.topics,
      isFailed: () => this.failure !== undefined,
      isStopping: () => this.options.signal?.aborted === true,
    });
    try {
      await this.consumer.subscribe(this.config.input.topics, {
        onAssign: (tps) => this.lifecycle.onAssign(tps),
        onRevoke: (tps) => this.lifecycle.onRevoke(tps),
        onLost: (tps) => this.lifecycle.onLost(tps),
      });
      const reachedEnd = await this.loop(started);
      await this.beginning;
      this.finishing = true;
      await this.router.settle();
      this.throwIfFailed();
      if (reachedEnd && this.options.closeWindows === true) await this.closeWindowsAtEnd();
      await this.finalCheckpoint();
      await this.consumer.close();
      stats = await Promise.all(this.pool.workers.map((w) => w.control.stats()));
      await this.pool.close();
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
      await this.shutdownAfterFailure();
      throw this.failure ?? error;
    } finally {
      stopServing?.();
      clearInterval(watchdog);
      await this.producer?.close().catch(() => undefined);
      await this.reader?.close().catch(() => undefined);
    }
    this.throwIfFailed();

    const seconds = (performance.now() - started) / 1000;
    const records = stats.reduce((n, s) => n + s.recordsProcessed, 0);
    const coordinatorCpuMillis = threadCpuMillis().millis - cpuStart;
    return {
      records,
      seconds,
      recordsPerSecond: seconds > 0 ? records / seconds : 0,
      recoveredRecords: this.lifecycle.recoveredRecords,
      checkpoints: this.checkpointer.totals.checkpoints,
      changelogRecords: this.checkpointer.totals.changelogRecords,
      changelogBytes: this.checkpointer.totals.changelogBytes,
      outputRecords: stats.reduce((n, s) => n + s.recordsEmitted, 0),
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      workerCount: this.topology.workers,
      coordinatorCpuSeconds: coordinatorCpuMillis / 1000,
      workers: stats.map((s) => ({
        workerId: s.workerId,
        records: s.recordsProcessed,
        recordsRecovered: s.recordsRecovered,
        cpuSeconds: s.busyMillis / 1000,
      })),
    };
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /**
   * Phase 1 of a pipelined checkpoint (every worker prepares after the batches routed to
   * it so far), not waited for by the loop: routing goes on meanwhile, and what it routes
   * goes into the transactions continuing the prepared ones. Waiting here held every
   * record that arrived during the workers' prepare back from them (~100–150 ms per
   * checkpoint, the tail of the append → output latency). A failure fails the run.
   */
  private beginCheckpoint(cut: CheckpointCut): Promise<void> {
    return this.checkpointer.begin(cut === 'all' ? undefined : cut).then(
      () => {
        this.beginning = undefined;
      },
      (error: unknown) => {
        this.beginning = undefined;
        this.fail(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }

  /** Loops until stopped or failed (false), or until idle with `untilIdle` (true: the input was read to its end). */
  private async loop(started: number): Promise<boolean> {
    const commitIntervalMs = this.config.commitInterval * 1000;
    const commitEvery = this.config.commitEvery;
    const schedule = new CheckpointSchedule(
      { intervalMs: commitIntervalMs, commitEvery, sliced: this.config.processingGuarantee !== 'exactly-once' },
      performance.now(),
    );
    const assignedPartitions = (): number[] => this.consumer.assignment().map((tp) => tp.partition);
    let lastReport = performance.now();
    // --until-idle: when records last came, and when a wait without them was last reported.
    let routedAt = performance.now();
    let idleWaitReportedAt = routedAt;
    const signal = this.options.signal;
    while (signal?.aborted !== true && this.failure === undefined) {
      let max = 5000;
      if (commitEvery > 0) max = Math.max(1, Math.min(max, commitEvery - schedule.routedSinceLast));
      if (commitIntervalMs === 0) max = 1;
      const routed = await this.router.pollAndRoute(max, 100);
      schedule.routed(routed);
      const now = performance.now();
      // Memory stays bounded whatever the interval: a checkpoint starts early when the
      // workers hold more than the limit for it.
      const overLimit = this.pendingCheckpointBytes() >= this.config.limits.checkpointBytes;
      const cut = schedule.due(now, overLimit, assignedPartitions);
      if (cut !== undefined) {
        // The previous checkpoint is waited for, its prepare and its commit: the workers
        // are asked to prepare right away, so this one is cut after exactly the records
        // routed so far (commitEvery), and past the bytes limit the loop does not read on.
        if (this.beginning !== undefined) await this.beginning;
        await this.checkpointer.settle();
        this.beginning = this.beginCheckpoint(cut);
        schedule.started(performance.now(), cut);
      }
      if (this.options.onThroughput && now - lastReport >= 1000) {
        lastReport = now;
        this.options.onThroughput(this.router.processed(), (now - started) / 1000);
      }
      if (routed > 0) routedAt = now;
      if (routed === 0 && this.options.untilIdle === true) {
        const idle = await this.idle();
        if (idle === true) return true;
        // A run that waits long for its end says what it waits for, once per period.
        const reportMs = this.options.idleWaitReportMs ?? IDLE_WAIT_REPORT_MS;
        if (now - routedAt >= reportMs && now - idleWaitReportedAt >= reportMs) {
          idleWaitReportedAt = now;
          this.log(`--until-idle: no records for ${((now - routedAt) / 1000).toFixed(1)} s, and not at the end of input: ${idle}`);
        }
      }
    }
    return false;
  }

  /**
   * `--close-windows`: every worker closes its open windows once it has processed every
   * routed batch (control and data ports are not ordered with each other, hence the
   * drain). At-least-once: the results are delivered before the checkpoint that deletes
   * the windows, so a crash in between repeats them rather than losing them.
   */
  private async closeWindowsAtEnd(): Promise<void> {
    await Promise.all(this.pool.workers.map((w) => w.drained()));
    this.throwIfFailed();
    const closed = await Promise.all(this.pool.workers.map((w) => w.control.closeWindows()));
    for (const c of closed) if (c.outputs.length > 0) this.outputs.append(c.outputs);
    await this.outputs.flushed();
    this.throwIfFailed();
    this.log(`end of input: closed ${closed.reduce((n, c) => n + c.windows, 0)} open windows`);
  }

  /**
   * Every assigned partition is recovered and has been routed up to its high watermark
   * (true); otherwise what is still awaited.
   */
  private async idle(): Promise<true | string> {
    // A pipelined commit still running may yet be refused (docs/semantics.md §8.4), and then
    // its records are read again: the answer decides whether the input was really done with.
    await this.beginning;
    await this.checkpointer.settle();
    // A Kafka member learns its partitions a few seconds after subscribing: not idle before.
    if (!this.lifecycle.settled) return 'the assignment has not settled (no partitions assigned yet, a rebalance, or a recovery under way)';
    for (const tp of this.consumer.assignment()) {
      const { high } = await this.backend.watermarks(tp);
      const position = this.router.position(tp);
      if (position < high) return `${tp.topic}[${tp.partition}] routed up to offset ${position}, its high watermark is ${high}`;
    }
    return true;
  }

  /** A full checkpoint, waited for (end, revoke); throws when it or an earlier one failed. */
  private async checkpoint(): Promise<void> {
    this.throwIfFailed();
    await this.checkpointer.checkpointNow();
    this.throwIfFailed();
  }

  /** The last checkpoint of a run; a commit the group refuses leaves its records to be read again (docs/semantics.md §8.4). */
  private async finalCheckpoint(): Promise<void> {
    try {
      await this.checkpoint();
    } catch (error) {
      if (!(error instanceof CommitRejectedError)) throw error;
      this.log(`${error.message}; the run ends without committing its last records`);
    }
  }

  private pendingCheckpointBytes(): number {
    return this.pool.workers.reduce((n, w) => n + w.pendingBytes, 0);
  }

  private workerInits(): WorkerInit[] {
    return Array.from({ length: this.topology.workers }, (_, workerId) => ({
      workerId,
      appId: this.config.appId,
      pipelinePath: this.config.pipeline,
      stateBaseDir: this.stateManager.baseDir,
      streamId: this.stateManager.streamId,
      changelogTopics: this.stateManager.changelogTopics(),
      changelogEnabled: this.stateManager.changelogEnabled,
      outputTopics: this.config.output.topics,
      topicPartitions: this.topology.topicPartitions,
      streamOutputs: this.config.processingGuarantee !== 'exactly-once',
      errorPolicy: this.config.errors.policy,
      ...(this.config.errors.deadLetterTopic ? { deadLetterTopic: this.config.errors.deadLetterTopic } : {}),
      openMaxRetries: this.config.state.openMaxRetries,
      openRetryBackoffMs: this.config.state.openRetryBackoffMs,
      onCorruptedRecreate: this.config.state.onCorruptedRecreate,
      ttlMaxEvictionsPerCheckpoint: this.config.state.ttlMaxEvictionsPerCheckpoint,
      // The coordinator's decided format: a worker thread's stderr is never a terminal.
      logging: this.config.logging !== undefined ? decideLogFormat(this.config.logging) : loggingConfig(),
      ...(this.config.formats !== undefined ? { formats: this.config.formats } : {}),
      ...(this.config.schemaRegistry !== undefined ? { schemaRegistry: this.config.schemaRegistry } : {}),
    }));
  }

  /** A log line of the job (`options.log` in tests; otherwise weir's log, `weir: <message>` as text). */
  private log(message: string, context?: LogContext): void {
    if (this.options.log !== undefined) this.options.log(`weir: ${message}`);
    else weirLog.info(message, context);
  }

  private async shutdownAfterFailure(): Promise<void> {
    this.lifecycle?.abortRecoveries();
    // A checkpoint still preparing ends first (a failed run's workers answer or are gone).
    await this.beginning;
    await this.checkpointer?.abandon();
    await this.consumer?.close().catch(() => undefined);
    await this.pool.close().catch(() => this.pool.destroy());
  }
}
