/**
 * The life of this member's partitions, in one place: which worker owns each, assignment
 * (open the stores, decide the source offset, pause the partition at the source, recover
 * its state from the changelog, resume), revocation (checkpoint, then close the stores)
 * and loss (drop the uncommitted work). Kafka Streams splits it the same way: its
 * TaskManager owns the tasks, the StreamThread only loops; its changelog reader pauses
 * partitions while they restore.
 */
import type { WeirConfig } from '../config/index.js';
import type { GroupConsumer, LogBackend, RebalanceListener, TopicPartition } from '../shared/log/log-backend.js';
import { tpKey } from '../shared/log/log-backend.js';
import type { WorkerControl } from '../shared/protocol/worker-protocol.js';
import type { StateManager } from './state-manager.js';
import { WorkerAssignment } from './worker-assignment.js';
import type { WorkerHandle } from './worker-pool.js';
import type { Router } from './router.js';
import type { Checkpointer } from './checkpointer.js';
import type { RecoveryRunner } from './recovery-runner.js';
import { NEVER_COMMITTED } from '../shared/protocol/worker-protocol.js';
import { resolveSourceOffset, type SourceOffsetAction } from './source-offset-policy.js';
import { InternalInvariantError } from '../shared/errors/runtime-errors.js';
import { CommitRejectedError } from '../shared/errors/log-errors.js';
import type { LogContext } from '../shared/logging/weir-log.js';

/** What the lifecycle needs of the running job. */
export interface PartitionLifecycleContext {
  readonly config: WeirConfig;
  readonly backend: LogBackend;
  readonly consumer: GroupConsumer;
  readonly stateManager: StateManager;
  readonly workers: readonly WorkerHandle[];
  readonly router: Router;
  readonly recovery: RecoveryRunner;
  readonly checkpointer: Checkpointer;
  /** A full checkpoint before partitions leave (throws when the job has failed). */
  readonly checkpoint: () => Promise<void>;
  readonly isFailed: () => boolean;
  readonly fail: (error: Error) => void;
  readonly log: (message: string, context?: LogContext) => void;
}

export class PartitionLifecycle implements RebalanceListener {
  private readonly recovering = new Map<number, { abort: AbortController; done: Promise<void> }>();
  private assignedOnce = false;
  /** Rebalance callbacks running (assign, revoke, lost): not settled meanwhile. */
  private rebalancing = 0;
  private replayed = 0;
  /** Where reading started for partitions with no committed offset under `autoOffsetReset: latest` (a redo starts there again). */
  private readonly startsAtEnd = new Map<string, number>();
  /**
   * Partitions were revoked or lost and the group has not assigned again yet (the eager
   * protocol always follows with an assignment, maybe empty): the member is not idle then.
   */
  private awaitingAssignment = false;
  /** Counts rebalance callbacks: a redo queued before one is not needed after it. */
  private generation = 0;
  /** Assign, revoke, lost and redo run one at a time. */
  private turn: Promise<void> = Promise.resolve();

  constructor(
    /** Which worker owns which partition. */
    readonly assignment: WorkerAssignment,
    private readonly job: PartitionLifecycleContext,
  ) {}

  /** Changelog records replayed by recoveries so far. */
  get recoveredRecords(): number {
    return this.replayed;
  }

  /**
   * Partitions were assigned at least once, no rebalance is under way (none revoked without
   * the next assignment having arrived) and none is recovering.
   */
  get settled(): boolean {
    return this.assignedOnce && !this.awaitingAssignment && this.rebalancing === 0 && this.recovering.size === 0;
  }

  /** Whether `partition` is recovering its state (queries of it would see part of it). */
  isRecovering(partition: number): boolean {
    return this.recovering.has(partition);
  }

  /** Some assigned partition is recovering its state. */
  get recoveringPartitions(): number {
    return this.recovering.size;
  }

  private async duringRebalance(work: () => Promise<void>): Promise<void> {
    this.rebalancing += 1;
    const run = this.turn.then(work);
    this.turn = run.catch(() => undefined);
    try {
      await run;
    } finally {
      this.rebalancing -= 1;
    }
  }

  /** Stop every recovery in progress (the job is stopping). */
  abortRecoveries(): void {
    for (const r of this.recovering.values()) r.abort.abort();
  }

  private worker(partition: number): WorkerControl {
    const owner = this.assignment.ownerOf(partition);
    if (owner === undefined) throw new InternalInvariantError(`partition ${partition} has no owner`);
    return this.job.workers[owner]!.control;
  }

  /** New partitions: pick owners, open their stores, recover them in the background, then resume. */
  onAssign(tps: readonly TopicPartition[]): Promise<void> {
    this.generation++;
    this.awaitingAssignment = false;
    return this.duringRebalance(() => this.assign(tps));
  }

  /**
   * The group refused a commit (docs/semantics.md §8.4): give up every partition's work
   * since the last commit and take the partitions up again as if newly assigned — stores
   * reopened, the changelog replayed under the skip rule, the source read again from the
   * committed offsets. Kafka Streams redoes its tasks the same way after a
   * `TaskMigratedException`. Not waiting for the rebalance to revoke them keeps this
   * correct whether or not one follows.
   */
  redoFromCommitted(): Promise<void> {
    const generation = this.generation;
    return this.duringRebalance(async () => {
      // A rebalance since the refusal has revoked the partitions: their next owner reads them again.
      if (generation !== this.generation) return;
      const mine = new Set(this.assignment.partitions());
      const tps = this.job.consumer.assignment().filter((tp) => mine.has(tp.partition));
      await this.job.checkpointer.abandon();
      await this.release(tps);
      if (tps.length === 0) return;
      // Reading is past the committed offsets: hold the partitions, seek them back, and only
      // then forget them in the router, so nothing fetched before the seek is routed or
      // rewound to after it.
      this.job.router.pauseForRecovery(tps);
      const committed = await this.job.consumer.committed(tps);
      for (const tp of tps) await this.rewindTo(tp, committed.get(tpKey(tp)));
      for (const p of new Set(tps.map((tp) => tp.partition))) this.job.router.forget(p);
      await this.assign(tps, committed);
    });
  }

  /**
   * Take up `tps`. `alreadyRead`: their committed offsets as `GroupConsumer.committed`
   * returned them, when the caller has just read them (a redo reads them to seek back);
   * otherwise they are read here.
   */
  private async assign(tps: readonly TopicPartition[], alreadyRead?: Map<string, number | undefined>): Promise<void> {
    this.assignedOnce = true;
    const partitions = [...new Set(tps.map((tp) => tp.partition))].filter((p) => this.assignment.ownerOf(p) === undefined);
    this.assignment.add(partitions);
    const committed = alreadyRead ?? (await this.job.consumer.committed(tps));
    for (const p of partitions) {
      const sourceTps = tps.filter((tp) => tp.partition === p);
      const committedByTopic: Record<string, number> = {};
      let destroyLocalState = false;
      for (const tp of sourceTps) {
        let offset = committed.get(tpKey(tp));
        const action = await this.sourceOffsetAction(tp, offset);
        if (action.kind === 'reset') {
          destroyLocalState = true;
          this.job.log(
            `DESTRUCTIVE STATE RECOVERY for ${tp.topic}[${tp.partition}]: committed offset ${offset} is below ` +
              `the low watermark; local state of partition ${p} is deleted and rebuilt from the changelog ` +
              `(boundary ${action.recoveryBoundary}), reading resumes at offset ${action.seekTo}`,
            { topic: tp.topic, partition: tp.partition },
          );
          this.job.consumer.seek(tp, action.seekTo);
          offset = action.recoveryBoundary;
        }
        committedByTopic[tp.topic] = offset ?? NEVER_COMMITTED;
        if (offset === undefined && (this.job.config.input.autoOffsetReset === 'latest' || this.startsAtEnd.has(tpKey(tp)))) {
          // Reading starts at the end (where it first started, on a redo): what was there before is not this run's to route.
          const start = this.startsAtEnd.get(tpKey(tp)) ?? (await this.job.backend.watermarks(tp)).high;
          this.startsAtEnd.set(tpKey(tp), start);
          this.job.router.markCommitted({ ...tp, offset: start });
        }
        if (offset !== undefined) this.job.router.markCommitted({ ...tp, offset: action.kind === 'reset' ? action.seekTo : offset });
      }
      this.job.router.pauseForRecovery(sourceTps);
      const abort = new AbortController();
      const done = this.recoverPartition(p, committedByTopic, abort.signal, destroyLocalState)
        .then(() => {
          if (!abort.signal.aborted) this.job.router.resumeAfterRecovery(sourceTps);
        })
        .catch((error: unknown) => this.job.fail(error instanceof Error ? error : new Error(String(error))))
        .finally(() => this.recovering.delete(p));
      this.recovering.set(p, { abort, done });
    }
  }

  /** Read `tp` again from its committed offset, or from where this member started reading it when none was committed. */
  private async rewindTo(tp: TopicPartition, committed: number | undefined): Promise<void> {
    const offset = committed ?? this.startsAtEnd.get(tpKey(tp)) ?? (await this.job.backend.watermarks(tp)).low;
    this.job.consumer.seek(tp, offset);
  }

  /** docs/semantics.md §5.7: only stateful jobs care (stateless ones just follow the consumer's reset). */
  private async sourceOffsetAction(tp: TopicPartition, committed: number | undefined): Promise<SourceOffsetAction> {
    if (committed === undefined || this.job.stateManager.stores.length === 0) return { kind: 'in-range' };
    const { low, high } = await this.job.backend.watermarks(tp);
    return resolveSourceOffset(tp, committed, low, high, this.job.config.input.sourceOffsetOutOfRange, this.job.config.input.autoOffsetReset);
  }

  private async recoverPartition(
    partition: number,
    committed: Record<string, number>,
    signal: AbortSignal,
    destroyLocalState: boolean,
  ): Promise<void> {
    const worker = this.worker(partition);
    const infos = await worker.assign(partition, { destroyLocalState });
    if (!this.job.stateManager.changelogEnabled) return;
    const replayed = await this.job.recovery.recoverPartition(
      worker, partition, infos, this.job.stateManager.changelogTopics(), committed, signal,
    );
    this.replayed += replayed;
  }

  /** Partitions leaving: checkpoint what was processed, then close their stores. */
  onRevoke(tps: readonly TopicPartition[]): Promise<void> {
    this.generation++;
    this.awaitingAssignment = true;
    return this.duringRebalance(async () => {
      if (!this.job.isFailed()) await this.checkpointUnlessRejected();
      await this.release(tps);
    });
  }

  onLost(tps: readonly TopicPartition[]): Promise<void> {
    this.generation++;
    this.awaitingAssignment = true;
    return this.duringRebalance(async () => {
      await this.job.checkpointer.abandon();
      await this.release(tps);
    });
  }

  /**
   * Checkpoint before partitions leave. A commit the group refuses (it is rebalancing) is not
   * a failure: the work since the last commit is given up and read again by the partitions'
   * next owner (docs/semantics.md §8.4).
   */
  private async checkpointUnlessRejected(): Promise<void> {
    try {
      await this.job.checkpoint();
    } catch (error) {
      if (!(error instanceof CommitRejectedError)) throw error;
      this.job.log(`${error.message}; giving up the uncommitted work of the revoked partitions`);
    }
  }

  private async release(tps: readonly TopicPartition[]): Promise<void> {
    const partitions = [...new Set(tps.map((tp) => tp.partition))];
    for (const p of partitions) {
      const recovering = this.recovering.get(p);
      if (recovering) {
        recovering.abort.abort();
        await recovering.done;
      }
      const owner = this.assignment.ownerOf(p);
      if (owner !== undefined) await this.job.workers[owner]!.control.revoke(p);
      this.assignment.remove([p]);
      this.job.router.forget(p);
    }
    if (this.assignment.partitions().length === 0) this.job.checkpointer.partitionsReleased();
  }
}
