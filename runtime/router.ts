/**
 * Routing and backpressure: reads batches from the source consumer, splits them by
 * partition and posts each part to the owning worker as one encoded batch.
 *
 * In-flight records per worker are bounded: when a worker has more than `highWater`
 * records queued, the partitions it owns are paused at the source (not buffered), and
 * resumed once it drains below `lowWater`.
 */
import type { GroupConsumer, LogRecord, PartitionOffset, TopicPartition } from '../shared/log/log-backend.js';
import { tpKey } from '../shared/log/log-backend.js';
import { encodeRecordBatch } from '../shared/protocol/record-batch-codec.js';
import type { WorkerHandle } from './worker-pool.js';
import type { WorkerAssignment } from './worker-assignment.js';

export interface RouterOptions {
  readonly highWater?: number;
  readonly lowWater?: number;
}

export class Router {
  /** Next offset to route per source partition (tpKey → offset). */
  private readonly positions = new Map<string, number>();
  private readonly recoveryPaused = new Set<string>();
  private readonly backpressured = new Set<number>();
  private readonly highWater: number;
  private readonly lowWater: number;

  constructor(
    private readonly consumer: GroupConsumer,
    private readonly workers: readonly WorkerHandle[],
    private readonly assignment: WorkerAssignment,
    options: RouterOptions = {},
  ) {
    this.highWater = options.highWater ?? 50_000;
    this.lowWater = options.lowWater ?? 10_000;
  }

  /** A poll started before the previous batch was routed, so reading overlaps routing. */
  private pending: Promise<LogRecord[]> | undefined;

  /**
   * Route one polled batch; returns the number of records routed. The next poll is
   * started before this batch is routed so the log read overlaps the routing work.
   */
  async pollAndRoute(maxRecords: number, timeoutMs: number): Promise<number> {
    await this.relieveBackpressure();
    const records = await (this.pending ?? this.consumer.poll(maxRecords, timeoutMs));
    this.pending = undefined;
    if (records.length === 0) return 0;
    this.pending = this.consumer.poll(maxRecords, timeoutMs);
    // A rejected prefetch is surfaced by the next pollAndRoute, not as an unhandled rejection.
    this.pending.catch(() => undefined);
    const routed = this.route(records);
    this.applyBackpressure();
    return routed;
  }

  /** Wait for a prefetched poll so nothing reads the consumer after the loop ends. */
  async settle(): Promise<void> {
    const pending = this.pending;
    this.pending = undefined;
    if (pending === undefined) return;
    const records = await pending.catch(() => [] as LogRecord[]);
    // Not routed: rewind so these records are read again (by this or a later run).
    const first = new Map<string, LogRecord>();
    for (const r of records) if (!first.has(tpKey(r))) first.set(tpKey(r), r);
    for (const r of first.values()) this.consumer.seek(r, r.offset);
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
    this.consumer.resume(tps.filter((tp) => !this.backpressured.has(this.assignment.ownerOf(tp.partition) ?? -1)));
  }

  forget(partition: number): void {
    for (const key of [...this.positions.keys()]) if (key.endsWith(`[${partition}]`)) this.positions.delete(key);
  }

  private route(records: readonly LogRecord[]): number {
    const byPartition = new Map<number, LogRecord[]>();
    for (const r of records) {
      let list = byPartition.get(r.partition);
      if (list === undefined) byPartition.set(r.partition, (list = []));
      list.push(r);
    }
    let routed = 0;
    for (const [partition, list] of byPartition) {
      const owner = this.assignment.ownerOf(partition);
      if (owner === undefined) continue; // revoked while the poll was in flight
      const ready = this.withoutRecoveringPartitions(list);
      if (ready.length === 0) continue;
      this.workers[owner]!.post(partition, ready.length, encodeRecordBatch(ready));
      routed += ready.length;
      const last = new Map<string, number>();
      for (const r of ready) last.set(r.topic, r.offset + 1);
      for (const [topic, next] of last) {
        const key = tpKey({ topic, partition });
        if ((this.positions.get(key) ?? -1) < next) this.positions.set(key, next);
      }
    }
    return routed;
  }

  /**
   * Records of a partition still recovering must not reach its worker: drop them and
   * rewind the consumer to the first one (a poll in flight may have fetched them just
   * before the partition was paused).
   */
  private withoutRecoveringPartitions(list: readonly LogRecord[]): readonly LogRecord[] {
    if (this.recoveryPaused.size === 0) return list;
    const ready: LogRecord[] = [];
    const rewound = new Set<string>();
    for (const r of list) {
      const key = tpKey(r);
      if (!this.recoveryPaused.has(key)) ready.push(r);
      else if (!rewound.has(key)) {
        rewound.add(key);
        this.consumer.seek(r, r.offset);
      }
    }
    return ready;
  }

  private sourcePartitionsOf(worker: number): TopicPartition[] {
    return this.consumer.assignment().filter((tp) => this.assignment.ownerOf(tp.partition) === worker);
  }

  private applyBackpressure(): void {
    for (const w of this.workers) {
      if (w.inFlight > this.highWater && !this.backpressured.has(w.id)) {
        this.backpressured.add(w.id);
        this.consumer.pause(this.sourcePartitionsOf(w.id));
      }
    }
  }

  /** Resume drained workers; when every worker is backpressured, wait for one to drain. */
  private async relieveBackpressure(): Promise<void> {
    if (this.backpressured.size === 0) return;
    if (this.backpressured.size === this.workers.length) {
      await Promise.race([...this.backpressured].map((id) => this.workers[id]!.belowOrDrained(this.lowWater)));
    }
    for (const id of [...this.backpressured]) {
      const w = this.workers[id]!;
      if (w.inFlight <= this.lowWater) {
        this.backpressured.delete(id);
        this.consumer.resume(this.sourcePartitionsOf(id).filter((tp) => !this.recoveryPaused.has(tpKey(tp))));
      }
    }
  }
}
