/** Checks of caller-supplied log arguments; each failure names the field. */
import { isSaneTimestamp, TIMESTAMP_RANGE_TEXT } from '../../timestamps.js';
import { MAX_TOPIC_PARTITIONS } from '../log-backend.js';
import { InvalidLogArgumentError } from '../../errors/log-errors.js';

/** Kafka's rule, applied locally too so a topic name valid here is valid on Kafka. */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

export function checkTopicName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !TOPIC_NAME.test(name) || name === '.' || name === '..') {
    throw new InvalidLogArgumentError('topic', name, 'a name of 1-249 characters from [a-zA-Z0-9._-], not "." or ".."');
  }
}

/**
 * Most partitions a local topic may have: `MAX_TOPIC_PARTITIONS` (10,000), the bound
 * of every partition count weir accepts. The log keeps a few numbers per partition in
 * memory and a consumer is assigned every partition, so a typo such as 1e9 must be
 * refused before anything is written, and stored metadata beyond it is refused at open.
 */
export const MAX_PARTITIONS_PER_TOPIC: number = MAX_TOPIC_PARTITIONS;

export function checkPartitionCount(partitions: unknown): asserts partitions is number {
  if (!Number.isSafeInteger(partitions) || (partitions as number) < 1 || (partitions as number) > MAX_PARTITIONS_PER_TOPIC) {
    throw new InvalidLogArgumentError('partitions', partitions, `an integer from 1 to ${MAX_PARTITIONS_PER_TOPIC.toLocaleString('en-US')}`);
  }
}

export function checkGroup(group: unknown): asserts group is string {
  if (typeof group !== 'string' || group.length === 0 || Buffer.byteLength(group) > 0xffff) {
    throw new InvalidLogArgumentError('group', group, 'a non-empty consumer group id');
  }
}

/** Offsets and counts: non-negative safe integers. */
export function checkNonNegativeInteger(field: string, value: unknown): asserts value is number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new InvalidLogArgumentError(field, value, 'an integer ≥ 0');
  }
}

export function checkTimestamp(value: unknown): asserts value is number {
  if (!isSaneTimestamp(value)) throw new InvalidLogArgumentError('timestamp', value, TIMESTAMP_RANGE_TEXT);
}

export function checkBytes(field: string, value: unknown): asserts value is Uint8Array | null {
  if (value !== null && !(value instanceof Uint8Array)) {
    throw new InvalidLogArgumentError(field, value, 'a Uint8Array (or Buffer) or null');
  }
}
