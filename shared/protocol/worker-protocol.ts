/**
 * The coordinator ↔ worker protocol. Two MessagePorts per worker:
 * - control: typed calls through comlink (`WorkerControl`), tens of thousands per second at most;
 * - data: record batch sets in, encoded output batches out, as transferable ArrayBuffers
 *   (`DataMessage`), never one message per record. The coordinator never decodes a record:
 *   see docs/data-plane.md.
 */

import type { LoggingConfig } from '../logging/weir-log.js';
import type { MessagePort } from 'node:worker_threads';
import type { JobTopicFormats } from '../serialization/format.js';
import type { SchemaRegistryConfig } from '../serialization/schema-registry-config.js';

/**
 * The committed offset of a source topic the group never committed, in the committed
 * offsets a worker's recovery gets (Kafka's OFFSET_INVALID): every processed offset is at
 * or beyond it, so the skip rule drops every record of an uncommitted checkpoint.
 */
export const NEVER_COMMITTED = -1001;

/** What happens to a record the pipeline fails on (config `errors.policy`, docs/errors.md). */
export const ERROR_POLICIES = ['stop', 'skip', 'dead-letter'] as const;
export type ErrorPolicy = (typeof ERROR_POLICIES)[number];

/** What each worker thread's long-lived task receives (ports transferred). */
export interface WorkerTaskInput {
  readonly init: WorkerInit;
  readonly controlPort: MessagePort;
  readonly dataPort: MessagePort;
  /** Control calls in flight, shared with the coordinator (control-calls.ts); absent: the worker yields by time alone. */
  readonly controlCalls?: SharedArrayBuffer;
}

/** Everything a worker needs to start; plain data (structured-clonable). */
export interface WorkerInit {
  readonly workerId: number;
  readonly appId: string;
  /** Absolute path of the pipeline module. */
  readonly pipelinePath: string;
  /** `<state.dir>/<appId>` */
  readonly stateBaseDir: string;
  /** The stream id of the input topics (used in state paths and changelog names). */
  readonly streamId: string;
  /** Store name → changelog topic name (absent when changelogs are off). */
  readonly changelogTopics: Readonly<Record<string, string>>;
  readonly changelogEnabled: boolean;
  readonly outputTopics: readonly string[];
  /** Partition count of every topic a worker writes to (outputs, dead letters): workers choose partitions. */
  readonly topicPartitions: Readonly<Record<string, number>>;
  /**
   * At-least-once: hand each processed batch's outputs to the coordinator right away.
   * Exactly-once: hold them until `prepare` (they become visible at the commit).
   */
  readonly streamOutputs: boolean;
  readonly errorPolicy: ErrorPolicy;
  readonly deadLetterTopic?: string;
  readonly openMaxRetries: number;
  readonly openRetryBackoffMs: number;
  readonly onCorruptedRecreate: boolean;
  readonly ttlMaxEvictionsPerCheckpoint: number;
  /** Weir's log lines in the worker thread (config `logging`); absent: info, text. */
  readonly logging?: LoggingConfig;
  /** Key and value formats of the input and output topics (absent ⇒ JSON everywhere). */
  readonly formats?: JobTopicFormats;
  readonly schemaRegistry?: SchemaRegistryConfig;
}

/** The stored changelog offset of one store partition when it was opened. */
export interface StorePartitionInfo {
  readonly store: string;
  /** `undefined` when the database has never stored one. */
  readonly changelogOffset: number | undefined;
}

/**
 * One encoded record batch (shared/protocol/record-batch.ts) for one topic-partition; the
 * buffer holds exactly the batch, so it can be appended as it is and transferred.
 */
export interface EncodedBatch {
  readonly topic: string;
  readonly partition: number;
  readonly count: number;
  readonly buffer: ArrayBuffer;
}

/** A changelog batch of one store partition. */
export interface ChangelogBatch extends EncodedBatch {
  readonly store: string;
}

/** What a worker hands over at `prepare` for one partition: its changelog and what was processed. */
export interface PreparedPartition {
  readonly partition: number;
  /** Source topic → last processed offset in this checkpoint. */
  readonly processed: Readonly<Record<string, number>>;
  /** Each changed store's changelog, in batches in order (the last one's offset is what the flush stores). */
  readonly changelog: readonly ChangelogBatch[];
  readonly changelogRecords: number;
}

/** Everything a worker hands over at `prepare`. */
export interface PreparedWork {
  readonly partitions: readonly PreparedPartition[];
  /** Outputs held for the commit (exactly-once); empty when outputs stream. */
  readonly outputs: readonly EncodedBatch[];
  readonly outputRecords: number;
}

/** Changelog offset delivered for one (partition, store), for `flush`. */
export interface DeliveredChangelogOffset {
  readonly partition: number;
  readonly store: string;
  readonly offset: number;
}

export interface WorkerStats {
  readonly workerId: number;
  readonly recordsProcessed: number;
  readonly recordsRecovered: number;
  /** Records emitted to output and dead-letter topics. */
  readonly recordsEmitted: number;
  /** Records the error policy skipped or dead-lettered (which, by the job's `errors.policy`). */
  readonly recordsFailed?: number;
  /** CPU time of the worker thread, in milliseconds (shared/thread-cpu.ts). */
  readonly busyMillis: number;
}

/** What `closeWindows` did: windows closed, and their results to append now (at-least-once; empty under exactly-once). */
export interface ClosedWindows {
  readonly windows: number;
  readonly outputs: readonly EncodedBatch[];
}

/** An interactive query of one message key in one store partition (docs/server.md). */
export interface StateQuery {
  readonly store: string;
  readonly partition: number;
  /** The message key's bytes, as the records carry it. */
  readonly key: Uint8Array;
  /** One state key's bytes (compact JSON); absent: every state key of the message key. */
  readonly stateKey?: Uint8Array;
  /** Window stores: windows overlapping `[from, to)` (epoch ms). */
  readonly from?: number;
  readonly to?: number;
}

/** One entry a query found, decoded as `weir state dump` prints it. */
export interface QueriedEntry {
  readonly key: unknown;
  readonly stateKey: unknown;
  readonly value: unknown;
  readonly expiresAt?: number;
}

/** One window a window query found (docs/server.md). */
export interface QueriedWindow {
  readonly start: number;
  readonly end: number;
  /**
   * The window's result as its output record's value would carry it without `start` and
   * `end`: the single aggregation's result, or `{column: result}` for several;
   * `collect()` columns are left out (their values are stored apart).
   */
  readonly value: unknown;
}

/** Typed control calls a worker serves (through comlink). */
export interface WorkerControl {
  /**
   * Open the store partitions of `partition`; returns their stored changelog offsets.
   * `destroyLocalState` deletes them first (destructive recovery, docs/semantics.md §5.7).
   */
  assign(partition: number, options?: { readonly destroyLocalState?: boolean }): Promise<StorePartitionInfo[]>;
  /**
   * Apply one chunk of changelog records (encoded batch) to `store` of `partition` in one
   * database batch, skipping records whose processed offsets are not below `committed`.
   */
  recover(partition: number, store: string, chunk: ArrayBuffer, committed: Readonly<Record<string, number>>): Promise<void>;
  /** Close the store partitions of `partition` without flushing; the caller checkpointed first. */
  revoke(partition: number): Promise<void>;
  /** Write the prepared transactions with their delivered changelog offsets (may run while new records are processed). */
  flush(delivered: readonly DeliveredChangelogOffset[]): Promise<void>;
  /** Drop the current checkpoint's transactions (after a failed checkpoint). */
  abort(): Promise<void>;
  /**
   * End of input (`--close-windows`): close every open window of the worker's partitions
   * after every batch it has received. Call once the worker is drained; the next
   * checkpoint writes the change.
   */
  closeWindows(): Promise<ClosedWindows>;
  stats(): Promise<WorkerStats>;
  /**
   * The committed entries of a message key in a store partition this worker owns;
   * `undefined` when it does not own the partition (any more).
   */
  query(query: StateQuery): Promise<QueriedEntry[] | undefined>;
  /**
   * The committed windows of a message key in a window store partition this worker owns,
   * overlapping `[query.from, query.to)`, with each window's current result;
   * `undefined` when it does not own the partition (any more), `'not-a-window-store'`
   * when `query.store` is a key-value store.
   */
  queryWindows(query: StateQuery): Promise<QueriedWindow[] | 'not-a-window-store' | undefined>;
  /** Close everything; the worker task then ends. */
  close(): Promise<void>;
}

/** One partition's records as routed to the worker that owns the partition. */
export interface RoutedBatchSet {
  readonly topic: string;
  readonly partition: number;
  readonly count: number;
  /** A batch set (shared/protocol/record-batch.ts). */
  readonly buffer: ArrayBuffer;
}

/** Messages on the data port. */
export type DataMessage =
  | {
      /**
       * The batch sets one poll routed to this worker, in routing order: one message, and one
       * wake-up of the worker's thread, per poll rather than per partition (docs/data-plane.md,
       * rule 1). Each set is still reported `processed` on its own.
       */
      readonly type: 'records';
      readonly sets: readonly RoutedBatchSet[];
    }
  | {
      /**
       * Prepare every partition with work in this checkpoint, after the batches posted
       * before this message and before those posted after it (the data port is ordered, so
       * no drain is needed). Call only once the previous checkpoint is flushed. Records
       * posted afterwards are processed in new transactions continuing the prepared ones.
       */
      readonly type: 'prepare';
      readonly id: number;
      /** Only these partitions (a slice of an at-least-once checkpoint); absent: every one. */
      readonly partitions?: readonly number[];
    }
  | { readonly type: 'prepared'; readonly id: number; readonly work: PreparedWork }
  | { readonly type: 'prepare-failed'; readonly id: number; readonly message: string; readonly stack?: string }
  | {
      readonly type: 'processed';
      /** Batch sets reported: every set of one `records` message, the oldest posted first. */
      readonly sets: number;
      /** Records of those sets (as posted), and their bytes: in-flight accounting. */
      readonly count: number;
      readonly bytes: number;
      /** Outputs to append now (at-least-once) of all those sets, one batch per destination topic-partition. */
      readonly outputs: readonly EncodedBatch[];
      /** Bytes this worker holds for the next checkpoint (held outputs, changed state). */
      readonly pendingBytes: number;
    }
  | {
      readonly type: 'failed';
      readonly partition: number;
      readonly topic: string;
      readonly offset: number;
      readonly message: string;
      readonly stack?: string;
    };
