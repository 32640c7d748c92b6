/**
 * librdkafka configurations of the backend's clients. User client properties pass
 * through unchanged (security settings included) between the backend's defaults and
 * the few settings a role cannot work without, which always win.
 */
import type { ClientProperties } from './secret-redaction.js';

export type LibrdkafkaConfig = Record<string, string | number | boolean>;

/** librdkafka `event.log` severities (syslog levels) mapped to the backend's levels. */
export type KafkaLogLevel = 'error' | 'warn' | 'info' | 'debug';

export function logLevelOf(severity: number): KafkaLogLevel {
  if (severity <= 3) return 'error';
  if (severity === 4) return 'warn';
  if (severity <= 6) return 'info';
  return 'debug';
}

export interface ClientConfigInput {
  readonly bootstrapServers: string;
  readonly clientId: string;
  readonly properties: ClientProperties;
}

function base(input: ClientConfigInput, defaults: LibrdkafkaConfig, required: LibrdkafkaConfig): LibrdkafkaConfig {
  return {
    'client.id': input.clientId,
    // weir creates its topics explicitly; a typo must not create a topic.
    'allow.auto.create.topics': false,
    ...defaults,
    ...input.properties,
    'bootstrap.servers': input.bootstrapServers,
    ...required,
  };
}

/** The metadata/admin client. It may auto-create (only used as the mock cluster's createTopic fallback). */
export function metadataClientConfig(input: ClientConfigInput): LibrdkafkaConfig {
  return base(input, {}, { 'allow.auto.create.topics': true });
}

/** The idempotent producer behind `append`. */
export function idempotentProducerConfig(input: ClientConfigInput): LibrdkafkaConfig {
  return base(
    input,
    { 'linger.ms': 5 },
    // Same placement as the local backend's murmur2 partitioner; null keys spread randomly.
    { 'enable.idempotence': true, partitioner: 'murmur2_random', dr_cb: true },
  );
}

/** The transactional producer behind `appendAndCommit`. */
export function transactionalProducerConfig(input: ClientConfigInput, transactionalId: string): LibrdkafkaConfig {
  return base(
    input,
    { 'linger.ms': 5 },
    { 'transactional.id': transactionalId, partitioner: 'murmur2_random', dr_cb: true },
  );
}

/** A group member: range assignment (changelog partition N stays with source partition N), manual commits. */
export function groupConsumerConfig(input: ClientConfigInput, group: string, autoOffsetReset: 'earliest' | 'latest' = 'earliest'): LibrdkafkaConfig {
  return base(
    input,
    { 'auto.offset.reset': autoOffsetReset },
    {
      'group.id': group,
      'partition.assignment.strategy': 'range',
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'enable.partition.eof': false,
    },
  );
}

/** A consumer that never joins: reads committed offsets of `group`, or gives its group metadata to a transaction. */
export function groupOffsetsClientConfig(input: ClientConfigInput, group: string): LibrdkafkaConfig {
  return base(input, {}, { 'group.id': group, 'enable.auto.commit': false, 'enable.auto.offset.store': false });
}

/** The partition reader: manual assignment, committed data only, end-of-partition events. */
export function readerConfig(input: ClientConfigInput, readerGroup: string): LibrdkafkaConfig {
  return base(
    input,
    { 'auto.offset.reset': 'earliest' },
    {
      'group.id': readerGroup,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'isolation.level': 'read_committed',
      'enable.partition.eof': true,
    },
  );
}
