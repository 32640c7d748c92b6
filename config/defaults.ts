import { availableParallelism } from 'node:os';
import { MAX_TOPIC_PARTITIONS } from '../shared/log/log-backend.js';

/**
 * Documented defaults of every optional config field. Where a knob matches one of
 * Quix Streams (docs/semantics.md §11), its default is used unchanged; weir-specific choices say why.
 */
export const CONFIG_DEFAULTS = {
  /** Local log directory, relative to the config file. */
  localLogPath: './data/log',
  /** State base directory, relative to the config file (docs/semantics.md §11.1 `state_dir`). */
  stateDir: './state',
  /** Changelog topics on (docs/semantics.md §11.1 `use_changelog_topics`). */
  stateChangelog: true,
  /** Attempts to open a locked/busy state database (docs/semantics.md §11.2 `open_max_retries`). */
  stateOpenMaxRetries: 10,
  /** Pause between those attempts, ms (docs/semantics.md §11.2 `open_retry_backoff` 3.0 s). */
  stateOpenRetryBackoffMs: 3000,
  /** Recreate a corrupted state database from its changelog (docs/semantics.md §11.2). */
  stateOnCorruptedRecreate: true,
  /**
   * Most expired TTL keys one checkpoint deletes per store partition, at least (docs/ttl.md
   * rule 7): the reference's `max_evictions_per_flush`, 10,000, which at its 5 s interval
   * sustains 2,000 expirations/s per partition. Unset, the budget is
   * {@link CONFIG_DEFAULTS.stateTtlEvictionsPerSecond} × the commit interval when that is
   * more, so a longer interval does not lower the sustained rate (30 s: 60,000).
   */
  stateTtlMaxEvictionsPerCheckpoint: 10_000,
  /** Expirations per second and store partition the unset sweep budget sustains (above). */
  stateTtlEvictionsPerSecond: 2_000,
  /** docs/semantics.md §11.1 `processing_guarantee`. */
  processingGuarantee: 'at-least-once',
  /**
   * Seconds between commits under at-least-once; 0 = after every batch. Kafka Streams'
   * at-least-once 30 s, not Quix Streams' 5 s (docs/semantics.md §11.1): outputs stream
   * under at-least-once, so the interval does not hold them back; it sets how much input a
   * crash replays. A checkpoint writes every key changed since the last one, which on a busy
   * job is nearly every key at 5 s as at 30 s, so six times fewer checkpoints took a fifth of
   * the count job's CPU off and halved its busy p99 latency (BENCHMARKS.md, "The
   * at-least-once default commit interval: 30 s").
   */
  commitInterval: 30,
  /**
   * Seconds between commits under exactly-once, where outputs become visible only at the
   * commit: Kafka Streams' 100 ms. Measured on the count job (BENCHMARKS.md, "exactly-once
   * commit interval"): p99 latency ≈ interval + 20 ms.
   */
  exactlyOnceCommitInterval: 0.1,
  /** Seconds one batch may take in a worker before the job stops (Kafka's `max.poll.interval.ms`). */
  processingTimeout: 300,
  /** Seconds after a stop signal before a run that has not ended is stopped without a final checkpoint. */
  shutdownTimeout: 30,
  /** Batch-set bytes in flight per worker before its partitions are paused. */
  limitWorkerInFlightBytes: 4 * 1024 * 1024,
  /**
   * Output bytes waiting to be appended before reading waits. 8 MiB keeps the log's writer
   * busy (an append takes what is queued as one write) while bounding what waits: with 32
   * MiB, 5 M records through `npm start` held ~65 MB of output batches once the log's
   * compactions slowed its writes, and ran no faster (docs/data-plane.md, rule 7).
   */
  limitPendingOutputBytes: 8 * 1024 * 1024,
  /** Bytes the workers may hold for one checkpoint (held outputs) before it starts early. */
  limitCheckpointBytes: 64 * 1024 * 1024,
  /**
   * Old-generation heap limit of each worker thread, MB. Below 2 GB V8 grows a heap by
   * 1.3–2× its live size between collections instead of 4× (V8 scales the growing factor
   * with the limit), so this bounds how far a worker's heap overshoots what it holds; the
   * count job's workers hold ~30 MB and peaked at ~150 MB with V8's default (BENCHMARKS.md,
   * "Peak RSS"). A worker that really needs more fails with WORKER_FAILED (out of memory).
   */
  limitWorkerMaxOldGenerationMb: 1024,
  /**
   * Young-generation size of each worker thread, MB, when `limits.workerMaxYoungGenerationMb`
   * is not set: 16 for a pipeline without windows, whose per-record objects die young (V8's
   * 48 MB made the count job 7–10 % faster but peaked 50–100 MB higher at 1 M–5 M records),
   * and 48 (V8's own default on 64-bit) for one with windows. A window's aggregate lives as
   * long as the window and every record that updates it replaces it: with 16 MB these states
   * survived two scavenges and died in the old generation (the hopping window's worker spent
   * 22 % in GC; 48 MB ran it 10–15 % faster). BENCHMARKS.md, "Hopping window: worker young
   * generation".
   */
  limitWorkerMaxYoungGenerationMb: 16,
  limitWindowedWorkerMaxYoungGenerationMb: 48,
  /** Commit after N processed offsets; 0 = disabled (docs/semantics.md §11.1 `commit_every`). */
  commitEvery: 0,
  /**
   * Where a group with no committed offset starts. Quix Streams' default is `latest`;
   * weir uses `earliest` because a job over the embedded local log should process the
   * records already in it (the usual flow is `weir produce` then `weir run`), and
   * starting at the end would silently skip all of them.
   */
  autoOffsetReset: 'earliest',
  /**
   * A committed source offset below the source's low watermark (records deleted by
   * retention) at assignment (docs/semantics.md §5.7; `auto_recover_from_source_offset_out_of_range`
   * and `state_recovery_offset_reset` in one knob): `earliest` (Quix Streams' default)
   * rebuilds the partition's state and resumes at the low watermark, `latest` at the end,
   * `match` follows `autoOffsetReset`, `error` stops the job.
   */
  sourceOffsetOutOfRange: 'earliest',
  /** What to do with a record the pipeline fails on. */
  errorPolicy: 'stop',
  /** Partition count for topics the job creates (outputs, dead letters, `weir produce`). */
  partitions: 8,
  /** The running job's HTTP server (docs/server.md): on, loopback only, a free port. */
  /** Weir's own log lines (docs/config.md `logging`): info and up; the human `weir: …` text on a terminal, JSON lines elsewhere. */
  loggingLevel: 'info',
  loggingFormat: 'auto',
  serverEnabled: true,
  serverHost: '127.0.0.1',
  /** 0: the OS picks a free port; the address file says which (docs/server.md). */
  serverPort: 0,
  /** Largest request body, bytes: a 10,000-line produce request of ~1 KB records fits. */
  serverBodyLimit: 16 * 1024 * 1024,
  /** Records of an input topic not yet routed to the workers above which live produce pushes back. */
  serverMaxLagRecords: 1_000_000,
  /** How long a produce request waits for the lag to drop below the limit before answering 429. */
  serverBackpressureWaitMs: 5_000,
} as const;

/** Most partitions a topic may have (the log's bound, see MAX_TOPIC_PARTITIONS). */
export const MAX_PARTITIONS = MAX_TOPIC_PARTITIONS;

/**
 * Most worker threads a job may ask for (`workers`, `WEIR_WORKERS`, `--workers`). Each
 * worker is a thread with its own heap (tens of MB at least); beyond this a typo like
 * `--workers 99999999999` must be a config error, not a crash while spawning threads.
 */
export const MAX_WORKERS = 1024;

/** Default worker count: one per core the process may use. */
export function defaultWorkers(): number {
  return Math.min(availableParallelism(), MAX_WORKERS);
}
