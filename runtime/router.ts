/**
 * Routing and backpressure: reads batch sets from the source consumer (one per
 * partition) and posts each to the owning worker as it is, transferred, never decoded.
 *
 * In-flight records and bytes per worker are bounded: when a worker has more than
 * `highWater` records or `highWaterBytes` bytes queued, the partitions it owns are paused
 * at the source (not buffered), and resumed once it drains below the low marks.
 */
import type { GroupConsumer, PartitionBatchSet, PartitionOffset, TopicPartition } from '../shared/log/log-backend.js';
import { tpKey } from '../shared/log/log-backend.js';
import { batchSetFrom, batchSetFromOffset } from '../shared/protocol/record-batch.js';
import type { WorkerHandle } from './worker-pool.js';
import type { WorkerAssignment } from './worker-assignment.js';

export interface RouterOptions {
  /** Records in flight per worker above which its partitions are paused. */
  readonly highWater?: number;
  readonly lowWater?: number;
  /** Batch-set bytes in flight per worker above which its partitions are paused. */
  readonly highWaterBytes?: number;
  /** Output bytes waiting to be appended above which reading waits. */
  readonly outputHighWaterBytes?: number;
  /** Output bytes waiting to be appended: streamed outputs slow reading down, not memory. */
  readonly pendingOutputBytes?: () => number;
  readonly outputsDrained?: () => Promise<void>;
}

/** A poll's batch sets and the value of the router's forget counter when they were fetched. */
interface FetchedSets {
  readonly sets: PartitionBatchSet[];
  readonly fetchedAt: number;
}

export class Router {
  /** Next offset to route per source partition (tpKey → offset). */
  private readonly positions = new Map<string, number>();
  private readonly recoveryPaused = new Set<string>();
  /** Records fetched again below a partition's position and not routed (see `route`). */
  duplicatesDropped = 0;
  private readonly backpressured = new Set<number>();
  /** Records routed to workers per source topic (metrics). */
  readonly routedByTopic = new Map<string, number>();
  private readonly highWater: number;
  private readonly lowWater: number;
  private readonly highWaterBytes: number;

  constructor(
    private readonly consumer: GroupConsumer,
    private readonly workers: readonly WorkerHandle[],
    private readonly assignment: WorkerAssignment,
    private readonly options: RouterOptions = {},
  ) {
    this.highWater = options.highWater ?? 20_000;
    this.lowWater = options.lowWater ?? 5_000;
    this.highWaterBytes = options.highWaterBytes ?? 4 * 1024 * 1024;
  }

  /**
   * A poll started before the previous sets were routed, so reading overlaps routing. Once
   * it has returned, `fetchedAt` is the value of {@link forgotten} when it did.
   */
  private pending: Promise<FetchedSets> | undefined;
  /** Counts `forget` calls. */
  private forgotten = 0;
  /** Per partition, the value of {@link forgotten} when it was last forgotten. */
  private readonly forgottenAt = new Map<number, number>();

  /** One poll, stamped with when it returned. */
  private poll(maxRecords: number, timeoutMs: number): Promise<FetchedSets> {
    return this.consumer.pollBatches(maxRecords, timeoutMs).then((sets) => ({ sets, fetchedAt: this.forgotten }));
  }

  /**
   * Route one poll's batch sets, each to its partition's worker as it is (the
   * coordinator never looks at a record); returns the number of records routed. The next
   * poll is started before these are routed so the log read overlaps the routing work.
   */
  async pollAndRoute(maxRecords: number, timeoutMs: number): Promise<number> {
    await this.relieveBackpressure();
    const { sets, fetchedAt } = await (this.pending ?? this.poll(maxRecords, timeoutMs));
    this.pending = undefined;
    if (sets.length === 0) return 0;
    this.pending = this.poll(maxRecords, timeoutMs);
    // A rejected prefetch is surfaced by the next pollAndRoute, not as an unhandled rejection.
    this.pending.catch(() => undefined);
    let routed = 0;
    try {
      for (const set of sets) routed += this.isStale(set, fetchedAt) ? 0 : this.route(set);
    } finally {
      // Counted in flight when routed: posted whatever happens, so the count returns to zero.
      for (const worker of this.workers) worker.flushRouted();
    }
    this.applyBackpressure();
    return routed;
  }

  /** Wait for a prefetched poll so nothing reads the consumer after the loop ends. */
  async settle(): Promise<void> {
    const pending = this.pending;
    this.pending = undefined;
    if (pending === undefined) return;
    const { sets, fetchedAt } = await pending.catch((): FetchedSets => ({ sets: [], fetchedAt: this.forgotten }));
    // Not routed: rewind so these records are read again (by this or a later run).
    for (const set of sets) if (!this.isStale(set, fetchedAt)) this.rewind(set);
  }

  /**
   * Fetched before its partition was forgotten (released, or taken up again after a refused
   * commit) and routed only after: the partition's reading was reset since, so these records
   * are read again from where it now starts. Routing them, or rewinding to them, would apply
   * them twice or move reading past records not yet applied. A poll that returns after the
   * forget is not stale even if it started before: the partition was paused before its
   * reading was reset, and a consumer returns nothing of a paused partition, nor anything
   * read before a seek, so whatever such a poll returns was read from the new start.
   */
  private isStale(set: PartitionBatchSet, fetchedAt: number): boolean {
    return (this.forgottenAt.get(set.partition) ?? -1) > fetchedAt;
  }

  /** Next offset to be routed for a source partition (committed offset or 0 before any). */
  position(tp: TopicPartition): number {
    return this.positions.get(tpKey(tp)) ?? 0;
  }

  /** Records reported processed by all workers so far. */
  processed(): number {
    return this.workers.reduce((n, w) => n + w.recordsProcessed, 0);
  }

  markCommitted(offset: PartitionOffset): void {
    const key = tpKey(offset);
    if ((this.positions.get(key) ?? -1) < offset.offset) this.positions.set(key, offset.offset);
  }

  pauseForRecovery(tps: readonly TopicPartition[]): void {
    for (const tp of tps) this.recoveryPaused.add(tpKey(tp));
    this.consumer.pause(tps);
  }

  resumeAfterRecovery(tps: readonly TopicPartition[]): void {
    for (const tp of tps) this.recoveryPaused.delete(tpKey(tp));
    // A stop or rebalance may have taken partitions away while they recovered.
    const assigned = new Set(this.consumer.assignment().map(tpKey));
    this.consumer.resume(
      tps.filter((tp) => assigned.has(tpKey(tp)) && !this.backpressured.has(this.assignment.ownerOf(tp.partition) ?? -1)),
    );
  }

  forget(partition: number): void {
    this.forgotten += 1;
    this.forgottenAt.set(partition, this.forgotten);
    for (const key of [...this.positions.keys()]) if (key.endsWith(`[${partition}]`)) this.positions.delete(key);
  }

  private route(fetched: PartitionBatchSet): number {
    if (fetched.count === 0) return 0;
    const owner = this.assignment.ownerOf(fetched.partition);
    if (owner === undefined) return 0; // revoked while the poll was in flight
    const key = tpKey(fetched);
    // Records below the position were routed already, or committed before this member
    // got the partition: a fetch that started before a rebalance can deliver them again
    // after it (Kafka's fetcher drops them the same way). Routing them twice would
    // apply them to state twice.
    const position = this.positions.get(key);
    const set = position === undefined ? fetched : batchSetFrom(fetched, position);
    if (set === undefined) {
      this.duplicatesDropped += fetched.count;
      return 0;
    }
    this.duplicatesDropped += fetched.count - set.count;
    if (this.recoveryPaused.has(key)) {
      // Still recovering: these records must not reach the worker yet. A poll in flight
      // may have fetched them just before the partition was paused.
      this.rewind(set);
      return 0;
    }
    this.workers[owner]!.queueRouted(set.topic, set.partition, set.count, set.buffer);
    this.routedByTopic.set(set.topic, (this.routedByTopic.get(set.topic) ?? 0) + set.count);
    const next = set.nextOffset ?? set.lastOffset + 1;
    if ((this.positions.get(key) ?? -1) < next) this.positions.set(key, next);
    return set.count;
  }

  private rewind(set: PartitionBatchSet): void {
    if (set.count === 0) return;
    // Only partitions still assigned: a revoked one is re-read from its committed offset anyway.
    if (!this.consumer.assignment().some((tp) => tp.topic === set.topic && tp.partition === set.partition)) return;
    this.consumer.seek(set, batchSetFromOffset(set.buffer));
  }

  private sourcePartitionsOf(worker: number): TopicPartition[] {
    return this.consumer.assignment().filter((tp) => this.assignment.ownerOf(tp.partition) === worker);
  }

  private applyBackpressure(): void {
    for (const w of this.workers) {
      if (!w.below(this.highWater, this.highWaterBytes) && !this.backpressured.has(w.id)) {
        this.backpressured.add(w.id);
        this.consumer.pause(this.sourcePartitionsOf(w.id));
      }
    }
  }

  /** Resume drained workers; when every worker is backpressured, wait for one to drain. */
  private async relieveBackpressure(): Promise<void> {
    // Outputs not yet appended hold memory too: let the log catch up before reading more.
    const outputLimit = this.options.outputHighWaterBytes ?? 32 * 1024 * 1024;
    if (this.options.pendingOutputBytes !== undefined && this.options.pendingOutputBytes() > outputLimit) {
      await this.options.outputsDrained?.().catch(() => undefined);
    }
    if (this.backpressured.size === 0) return;
    const lowBytes = this.highWaterBytes / 4;
    if (this.backpressured.size === this.workers.length) {
      await Promise.race([...this.backpressured].map((id) => this.workers[id]!.belowOrDrained(this.lowWater, lowBytes)));
    }
    for (const id of [...this.backpressured]) {
      const w = this.workers[id]!;
      if (w.below(this.lowWater, lowBytes)) {
        this.backpressured.delete(id);
        this.consumer.resume(this.sourcePartitionsOf(id).filter((tp) => !this.recoveryPaused.has(tpKey(tp))));
      }
    }
  }
}
