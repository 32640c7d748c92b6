/**
 * The job's Prometheus metrics (`GET /metrics`, docs/server.md), through prom-client on
 * a registry of its own (two jobs in one process, as in tests, do not mix). Most values
 * are read from the running job's parts when scraped, so counting costs the data plane
 * nothing; checkpoint durations and recovery progress are observed as they happen.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WeirConfig } from '../../config/index.js';
import type { RecoveryProgress } from '../recovery-runner.js';
import type { CheckpointResult } from '../checkpointer.js';
import type { RunningJobView } from './running-job.js';
import { StateSizes } from './state-size.js';

/** Buckets of the checkpoint duration histogram, seconds: 5 ms … 60 s. */
const CHECKPOINT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Sets a counter to a total kept by the job (prom-client counters only count up). */
function setTotal(counter: Counter<string>, labels: Record<string, string>, total: number): void {
  counter.remove(labels);
  counter.inc(labels, total);
}

export class JobMetrics {
  readonly registry = new Registry();
  private readonly checkpoints: Counter<string>;
  private readonly checkpointSeconds: Histogram<string>;
  private readonly changelogRecords: Counter<string>;
  private readonly checkpointOutputs = new Map<string, number>();
  private readonly recoveredRecords: Gauge<string>;
  private readonly recoveryTargetRecords: Gauge<string>;
  /** Worker CPU time and wall time at the last scrape, for the busy ratio. */
  private readonly lastBusy = new Map<number, { cpuMillis: number; at: number }>();

  constructor(config: WeirConfig, private readonly job: RunningJobView) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ app_id: config.appId });
    collectDefaultMetrics({ register: this.registry });
    const view = this.job;

    new Counter({
      name: 'weir_records_in_total',
      help: 'Records of the input topics handed to the workers, per topic',
      labelNames: ['topic'],
      registers,
      collect() {
        const parts = view.parts;
        if (parts === undefined) return;
        for (const [topic, n] of parts.router.routedByTopic) setTotal(this, { topic }, n);
      },
    });
    const checkpointOutputs = this.checkpointOutputs;
    new Counter({
      name: 'weir_records_out_total',
      help: 'Records appended to output and dead-letter topics, per topic',
      labelNames: ['topic'],
      registers,
      collect() {
        const parts = view.parts;
        if (parts === undefined) return;
        const totals = new Map(checkpointOutputs);
        for (const [topic, n] of parts.outputs.recordsByTopic) totals.set(topic, (totals.get(topic) ?? 0) + n);
        for (const [topic, n] of totals) setTotal(this, { topic }, n);
      },
    });
    new Counter({
      name: 'weir_records_processed_total',
      help: 'Records processed by each worker thread',
      labelNames: ['worker'],
      registers,
      collect() {
        for (const w of view.parts?.workers ?? []) setTotal(this, { worker: String(w.id) }, w.recordsProcessed);
      },
    });
    new Gauge({
      name: 'weir_worker_in_flight_records',
      help: 'Records handed to a worker thread and not yet processed',
      labelNames: ['worker'],
      registers,
      collect() {
        for (const w of view.parts?.workers ?? []) this.set({ worker: String(w.id) }, w.inFlight);
      },
    });
    const lastBusy = this.lastBusy;
    new Counter({
      name: 'weir_records_failed_total',
      help: 'Records the error policy skipped or dead-lettered (errors.policy)',
      labelNames: ['policy'],
      registers,
      async collect() {
        const workers = view.parts?.workers ?? [];
        if (workers.length === 0) return;
        const stats = await Promise.all(workers.map((w) => w.control.stats().catch(() => undefined)));
        setTotal(this, { policy: config.errors.policy }, stats.reduce((n, s) => n + (s?.recordsFailed ?? 0), 0));
      },
    });
    new Gauge({
      name: 'weir_worker_busy_ratio',
      help: 'Share of wall time each worker thread spent on the CPU since the previous scrape',
      labelNames: ['worker'],
      registers,
      async collect() {
        const workers = view.parts?.workers ?? [];
        const stats = await Promise.all(workers.map((w) => w.control.stats().catch(() => undefined)));
        for (const s of stats) {
          if (s === undefined) continue;
          const now = performance.now();
          const last = lastBusy.get(s.workerId);
          lastBusy.set(s.workerId, { cpuMillis: s.busyMillis, at: now });
          if (last !== undefined && now > last.at) {
            this.set({ worker: String(s.workerId) }, Math.min(1, Math.max(0, (s.busyMillis - last.cpuMillis) / (now - last.at))));
          }
        }
      },
    });
    new Gauge({
      name: 'weir_consumer_lag_records',
      help: 'Records of each assigned input partition not yet handed to a worker (high watermark - position)',
      labelNames: ['topic', 'partition'],
      registers,
      async collect() {
        this.reset();
        const parts = view.parts;
        if (parts === undefined) return;
        for (const tp of parts.consumer.assignment()) {
          const { high } = await parts.backend.watermarks(tp);
          this.set({ topic: tp.topic, partition: String(tp.partition) }, Math.max(0, high - parts.router.position(tp)));
        }
      },
    });
    new Gauge({
      name: 'weir_partitions_assigned',
      help: 'Input partitions this process owns',
      registers,
      collect() {
        this.set(new Set(view.parts?.consumer.assignment().map((tp) => tp.partition) ?? []).size);
      },
    });
    new Gauge({
      name: 'weir_ready',
      help: '1 when every assigned partition is recovered and the job processes (GET /readyz)',
      registers,
      collect() {
        this.set(view.readiness().ready ? 1 : 0);
      },
    });
    const stateSizes = new StateSizes(config);
    new Gauge({
      name: 'weir_state_size_bytes',
      help: 'Bytes on disk of each assigned store partition (its LevelDB directory), measured again at most once per checkpoint',
      labelNames: ['store', 'partition'],
      registers,
      async collect() {
        const parts = view.parts;
        if (parts === undefined) return;
        const partitions = parts.lifecycle.assignment.partitions();
        const version = parts.checkpointer.totals.checkpoints + parts.lifecycle.recoveredRecords;
        const sizes = await stateSizes.sizes(parts.stores, partitions, version);
        this.reset();
        for (const s of sizes) this.set({ store: s.store, partition: String(s.partition) }, s.bytes);
      },
    });
    this.checkpoints = new Counter({ name: 'weir_checkpoints_total', help: 'Checkpoints committed', registers });
    this.checkpointSeconds = new Histogram({
      name: 'weir_checkpoint_duration_seconds',
      help: 'Time from a checkpoint\'s prepare to its flush',
      buckets: CHECKPOINT_BUCKETS,
      registers,
    });
    this.changelogRecords = new Counter({ name: 'weir_changelog_records_total', help: 'Changelog records written by checkpoints', registers });
    this.recoveredRecords = new Gauge({
      name: 'weir_recovery_records',
      help: 'Changelog records replayed by the latest recovery of each store partition',
      labelNames: ['store', 'partition'],
      registers,
    });
    this.recoveryTargetRecords = new Gauge({
      name: 'weir_recovery_target_records',
      help: 'Changelog records the latest recovery of each store partition had to replay',
      labelNames: ['store', 'partition'],
      registers,
    });
  }

  /** A checkpoint was committed (Checkpointer.onCheckpoint). */
  checkpointed(result: CheckpointResult, seconds: number): void {
    if (result.partitions > 0) this.checkpoints.inc();
    this.checkpointSeconds.observe(seconds);
    this.changelogRecords.inc(result.changelogRecords);
    for (const [topic, n] of Object.entries(result.outputsByTopic ?? {})) {
      this.checkpointOutputs.set(topic, (this.checkpointOutputs.get(topic) ?? 0) + n);
    }
  }

  /** Recovery of a store partition progressed. */
  recoveryProgress(progress: RecoveryProgress): void {
    const labels = { store: progress.store, partition: String(progress.partition) };
    this.recoveredRecords.set(labels, progress.recovered);
    this.recoveryTargetRecords.set(labels, progress.total);
  }

  /** The Prometheus text exposition and its content type. */
  async scrape(): Promise<{ text: string; contentType: string }> {
    return { text: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
