import { WeirError } from './weir-error.js';
import { TIMESTAMP_RANGE_TEXT } from '../timestamps.js';
import type { TopicPartition } from '../log/log-backend.js';
import type { InputRecord } from '../pipeline/pipeline-definition.js';

/** A worker reported a processing failure, or a worker thread crashed. */
export class WorkerFailedError extends WeirError {
  constructor(
    readonly workerId: number,
    readonly topic: string | undefined,
    readonly partition: number | undefined,
    readonly offset: number | undefined,
    readonly reason: string,
    readonly workerStack?: string,
  ) {
    const where =
      topic !== undefined && partition !== undefined
        ? ` while processing ${topic}[${partition}] offset ${offset}`
        : partition !== undefined
          ? ` on partition ${partition}`
          : '';
    super('WORKER_FAILED', `worker ${workerId} failed${where}: ${reason}`);
  }
}

/** Input topics of one job must be co-partitioned (same partition count). */
export class TopicPartitionsMismatchError extends WeirError {
  constructor(readonly counts: Readonly<Record<string, number>>) {
    const list = Object.entries(counts).map(([t, n]) => `${t}=${n}`).join(', ');
    super('TOPIC_PARTITIONS_MISMATCH', `input topics must have the same number of partitions, got ${list}`);
  }
}

/** An existing changelog topic has a different partition count than its source. */
export class ChangelogTopicMismatchError extends WeirError {
  constructor(readonly topic: string, readonly expected: number, readonly actual: number) {
    super(
      'CHANGELOG_TOPIC_MISMATCH',
      `changelog topic ${topic} has ${actual} partitions but its source has ${expected}; ` +
        `delete the changelog topic and the state directory, or use a new appId`,
    );
  }
}

/** An input topic does not exist. */
export class InputTopicNotFoundError extends WeirError {
  constructor(readonly topic: string) {
    super('INPUT_TOPIC_NOT_FOUND', `input topic ${topic} does not exist; create it (e.g. weir produce --topic ${topic}) or fix input.topics`);
  }
}

/**
 * A TypeScript module cannot be bundled at load (e.g. a package esbuild cannot resolve
 * up front); the loader then leaves it to tsx, so a user never sees this one.
 */
export class BundleUnsupportedError extends Error {}

/** The pipeline module could not be loaded or is not a pipeline definition. */
export class PipelineLoadError extends WeirError {
  constructor(readonly path: string, reason: string, options?: { cause?: unknown }) {
    super('PIPELINE_LOAD', `cannot load pipeline ${path}: ${reason}`, options);
  }
}

/** The stored changelog offset is at or past the changelog's end (docs/semantics.md §5.2). */
export class InvalidStoreChangelogOffsetError extends WeirError {
  constructor(readonly store: string, readonly partition: number, readonly stored: number, readonly highWatermark: number) {
    super(
      'INVALID_STORE_CHANGELOG_OFFSET',
      `store ${store} partition ${partition}: the offset in the state store (${stored}) is greater than or equal to ` +
        `its changelog high watermark (${highWatermark}); the changelog was probably deleted and recreated but the ` +
        `state was not. Run "weir state clear" and start again`,
    );
  }
}

/** The pipeline asked for a store it did not declare. */
export class UnknownStoreError extends WeirError {
  constructor(readonly store: string, readonly declared: readonly string[]) {
    super('UNKNOWN_STORE', `store ${store} is not declared by the pipeline (declared: ${declared.join(', ') || 'none'})`);
  }
}

/** The pipeline emitted to a topic not listed in `output.topics`. */
export class UnknownOutputTopicError extends WeirError {
  constructor(readonly topic: string, readonly declared: readonly string[]) {
    super('UNKNOWN_OUTPUT_TOPIC', `cannot emit to ${topic}: add it to output.topics in the config (declared: ${declared.join(', ') || 'none'})`);
  }
}

/**
 * A worker has not finished a batch within the processing timeout (an endless loop or a
 * call that never returns in the pipeline). Like Kafka's `max.poll.interval.ms`: the job
 * stops rather than hold its partitions forever.
 */
export class WorkerStuckError extends WeirError {
  constructor(
    readonly workerId: number,
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    readonly seconds: number,
  ) {
    super(
      'WORKER_STUCK',
      `worker ${workerId} has been processing ${topic}[${partition}] from offset ${offset} for more than ${seconds} s ` +
        `(processingTimeout); the pipeline may loop forever. The job stops; nothing uncommitted is lost`,
    );
  }
}

/** A stop signal did not end the run within the grace period (`shutdownTimeout`). */
export class StopTimeoutError extends WeirError {
  constructor(readonly seconds: number, readonly busy: string) {
    super(
      'STOP_TIMEOUT',
      `the job did not stop within ${seconds} s of the stop signal (${busy}); stopped without a final checkpoint, ` +
        `nothing committed is lost`,
    );
  }
}

/** `context.emit` with a timestamp outside the range weir accepts (shared/timestamps.ts). */
export class InvalidOutputTimestampError extends WeirError {
  constructor(readonly topic: string, readonly timestamp: unknown) {
    super('INVALID_OUTPUT_TIMESTAMP', `emit to ${topic}: timestamp ${String(timestamp)} is not ${TIMESTAMP_RANGE_TEXT}`);
  }
}

/** A record reaching a window has a timestamp outside the range weir accepts; it follows the error policy. */
export class RecordTimestampOutOfRangeError extends WeirError {
  constructor(readonly timestamp: number) {
    super('RECORD_TIMESTAMP_OUT_OF_RANGE', `record timestamp ${timestamp} is not ${TIMESTAMP_RANGE_TEXT}; windows cannot place it`);
  }
}

/**
 * A rule weir's own code relies on did not hold (a bug, never bad input): the message
 * says which rule, for a bug report. Thrown instead of a bare `Error` so every failure
 * carries a code.
 */
export class InternalInvariantError extends WeirError {
  constructor(readonly invariant: string) {
    super('INTERNAL_INVARIANT', `internal error (please report it): ${invariant}`);
  }
}

/** A record whose processing failed under the `stop` policy. */
/** The pipeline (or a format, or window code) failed on `record`; the error policy decides what follows. */
export class RecordProcessingError extends WeirError {
  constructor(readonly record: InputRecord, override readonly cause: unknown) {
    super('RECORD_PROCESSING_FAILED', cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** The committed offset is gone and the policy says to stop. */
export class SourceOffsetOutOfRangeError extends WeirError {
  constructor(readonly tp: TopicPartition, readonly committed: number, readonly lowWatermark: number, detail: string) {
    super(
      'SOURCE_OFFSET_OUT_OF_RANGE',
      `consumer group offset ${committed} for topic ${tp.topic}[${tp.partition}] is below the low watermark ` +
        `${lowWatermark}: ${detail}`,
    );
  }
}

/**
 * A checkpoint was asked of a worker after one of its records failed under the `stop`
 * policy: the failed record may have written part of its state, so nothing is prepared.
 */
export class CheckpointAfterFailureError extends WeirError {
  constructor(readonly workerId: number) {
    super('CHECKPOINT_AFTER_FAILURE', `worker ${workerId} refused a checkpoint: one of its records failed under the stop policy, so its open state is not checkpointed`);
  }
}
