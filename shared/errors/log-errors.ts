/**
 * Errors raised by log backends (`shared/log/`). Each names what the caller got
 * wrong or what is in the way, so it can be acted on without parsing messages.
 */
import { WeirError } from './weir-error.js';

/** The topic does not exist in the log. */
export class TopicNotFoundError extends WeirError {
  readonly topic: string;

  constructor(topic: string) {
    super('LOG_TOPIC_NOT_FOUND', `topic "${topic}" does not exist`);
    this.topic = topic;
  }
}

/** A partition number outside `0 .. partitions-1` of its topic. */
export class PartitionOutOfRangeError extends WeirError {
  readonly topic: string;
  readonly partition: number;
  readonly partitions: number;

  constructor(topic: string, partition: number, partitions: number) {
    super(
      'LOG_PARTITION_OUT_OF_RANGE',
      `partition ${partition} of topic "${topic}" is out of range: the topic has ${partitions} partition(s), 0..${partitions - 1}`,
    );
    this.topic = topic;
    this.partition = partition;
    this.partitions = partitions;
  }
}

/** Another process (or another handle in this process) holds the log directory's lock. */
export class LogLockedError extends WeirError {
  readonly path: string;

  constructor(path: string, options?: { cause?: unknown }) {
    super(
      'LOG_LOCKED',
      `log directory ${path} is locked by another process (or another open handle in this one); stop it or use another directory`,
      options,
    );
    this.path = path;
  }
}

/** `createTopic` of an existing topic with a different partition count. */
export class TopicPartitionCountMismatchError extends WeirError {
  readonly topic: string;
  readonly existingPartitions: number;
  readonly requestedPartitions: number;

  constructor(topic: string, existingPartitions: number, requestedPartitions: number) {
    super(
      'LOG_TOPIC_PARTITION_COUNT_MISMATCH',
      `topic "${topic}" already exists with ${existingPartitions} partition(s); cannot create it with ${requestedPartitions}`,
    );
    this.topic = topic;
    this.existingPartitions = existingPartitions;
    this.requestedPartitions = requestedPartitions;
  }
}

/** A bad argument to a log operation: names the field, the value and what was expected. */
export class InvalidLogArgumentError extends WeirError {
  readonly field: string;
  readonly value: unknown;

  constructor(field: string, value: unknown, expected: string) {
    super('LOG_INVALID_ARGUMENT', `${field}: expected ${expected}, got ${describeValue(value)}`);
    this.field = field;
    this.value = value;
  }
}

/** A group consumer was asked to act on a partition it is not assigned. */
export class PartitionNotAssignedError extends WeirError {
  readonly topic: string;
  readonly partition: number;
  readonly group: string;

  constructor(group: string, topic: string, partition: number) {
    super(
      'LOG_PARTITION_NOT_ASSIGNED',
      `partition ${partition} of topic "${topic}" is not assigned to this member of group "${group}"`,
    );
    this.topic = topic;
    this.partition = partition;
    this.group = group;
  }
}

/** An operation on a log backend, producer, consumer or reader after `close()`. */
export class LogClosedError extends WeirError {
  readonly what: string;

  constructor(what: string) {
    super('LOG_CLOSED', `${what} is closed`);
    this.what = what;
  }
}

/** The log directory holds data this version cannot read. */
export class LogFormatError extends WeirError {
  readonly path: string;

  constructor(path: string, detail: string) {
    super('LOG_FORMAT', `log directory ${path}: ${detail}`);
    this.path = path;
  }
}

/**
 * The log path is a non-empty directory that holds no LevelDB database (no `CURRENT`
 * file): opening it would create a log among someone else's files.
 */
export class NotALogDirectoryError extends WeirError {
  readonly path: string;

  constructor(path: string, detail: string) {
    super(
      'LOG_NOT_A_LOG_DIRECTORY',
      `${path} is not a weir log directory: ${detail}. Point the log at an empty or missing directory (it is created), ` +
        'or restore the log that was there (a log directory always holds a LevelDB CURRENT file)',
    );
    this.path = path;
  }
}

/**
 * A write to the log failed. Nothing of it was appended or committed: every write is
 * one atomic LevelDB batch. `code` is `LOG_DISK_FULL` when the disk is full
 * (`No space left on device`), `LOG_WRITE_FAILED` for any other I/O failure.
 */
export class LogWriteError extends WeirError {
  readonly path: string;
  readonly diskFull: boolean;

  constructor(path: string, diskFull: boolean, reason: string, options?: { cause?: unknown }) {
    super(
      diskFull ? 'LOG_DISK_FULL' : 'LOG_WRITE_FAILED',
      diskFull
        ? `log directory ${path}: the disk is full (${reason}); nothing of this write was appended or committed ` +
            '(each write is one atomic LevelDB batch). Free disk space, then retry the write'
        : `log directory ${path}: a write failed (${reason}); nothing of this write was appended or committed ` +
            '(each write is one atomic LevelDB batch)',
      options,
    );
    this.path = path;
    this.diskFull = diskFull;
  }
}

/** Bytes given to `appendBatches` are not a valid record batch (shared/protocol/record-batch.ts). */
export class InvalidRecordBatchError extends WeirError {
  readonly topic: string;
  readonly partition: number;

  constructor(topic: string, partition: number, detail: string) {
    super('LOG_INVALID_RECORD_BATCH', `batch for partition ${partition} of topic "${topic}" is not a valid record batch: ${detail}`);
    this.topic = topic;
    this.partition = partition;
  }
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  return typeof value;
}

/** The local log has one member per consumer group, and this group already has a subscribed one. */
export class GroupMemberConflictError extends WeirError {
  readonly group: string;

  constructor(group: string) {
    super(
      'LOG_GROUP_MEMBER_CONFLICT',
      `consumer group "${group}" already has a subscribed member in this process; the local log gives a group one member (close it first)`,
    );
    this.group = group;
  }
}

/** Bytes handed over as a record batch (or batch set) are not one: a stored entry written by something else, or a bug. */
export class RecordBatchFormatError extends WeirError {
  constructor(detail: string) {
    super('RECORD_BATCH_FORMAT', detail);
  }
}

/**
 * The group refused an offset commit because it is rebalancing or this member's
 * generation has ended. Nothing of that checkpoint may be kept: its records are read
 * again from the committed offsets by the partitions' next owner, which may be this
 * member (docs/semantics.md §8.4).
 */
export class CommitRejectedError extends WeirError {
  readonly group: string;
  /** The broker's reason, e.g. `REBALANCE_IN_PROGRESS`. */
  readonly reason: string;

  constructor(group: string, reason: string, options?: { cause?: unknown }) {
    super(
      'COMMIT_REJECTED',
      `consumer group "${group}" rejected an offset commit (${reason}): the group rebalanced meanwhile, so the ` +
        "checkpoint's records are read again from the committed offsets by their partitions' next owner",
      options,
    );
    this.group = group;
    this.reason = reason;
  }
}
