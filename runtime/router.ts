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

  /** Poll once and route what came back; returns the number of records routed. */
  async pollAndRoute(maxRecords: number, timeoutMs: number): Promise<number> {
    await this.relieveBackpressure();
    const records = await this.consumer.poll(maxRecords, timeoutMs);
    if (records.length === 0) return 0;
    this.route(records);
    this.applyBackpressure();
    return records.length;
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

  private route(records: readonly LogRecord[]): void {
    const byPartition = new Map<number, LogRecord[]>();
    for (const r of records) {
      let list = byPartition.get(r.partition);
      if (list === undefined) byPartition.set(r.partition, (list = []));
      list.push(r);
    }
    for (const [partition, list] of byPartition) {
      const owner = this.assignment.ownerOf(partition);
      if (owner === undefined) continue; // revoked while the poll was in flight
      this.workers[owner]!.post(partition, list.length, encodeRecordBatch(list));
      for (const r of list) {
        const key = tpKey(r);
        if ((this.positions.get(key) ?? -1) < r.offset + 1) this.positions.set(key, r.offset + 1);
      }
    }
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
