/**
 * A LogBackend decorator that notes when the job first reads a partition directly.
 * The runtime reads partitions outside the consumer group only to replay changelogs,
 * so the first direct read marks the start of recovery: the bench child measures the
 * replay from there, without thread start-up, through the interface alone.
 */
import type { LogBackend, PartitionReader } from '../../shared/log/log-backend.js';

export interface TimedBackend {
  readonly backend: LogBackend;
  /** performance.now() of the first PartitionReader.read, if any. */
  firstDirectReadAt(): number | undefined;
}

export function timedBackend(inner: LogBackend): TimedBackend {
  let firstRead: number | undefined;
  const backend: LogBackend = {
    kind: inner.kind,
    createTopic: (name, partitions, config) => inner.createTopic(name, partitions, config),
    describeTopic: (name) => inner.describeTopic(name),
    listTopics: () => inner.listTopics(),
    watermarks: (partition) => inner.watermarks(partition),
    committedOffsets: (group, partitions) => inner.committedOffsets(group, partitions),
    producer: () => inner.producer(),
    consumer: (group) => inner.consumer(group),
    async reader(): Promise<PartitionReader> {
      const reader = await inner.reader();
      return {
        read(partition, fromOffset, maxRecords) {
          firstRead ??= performance.now();
          return reader.read(partition, fromOffset, maxRecords);
        },
        close: () => reader.close(),
      };
    },
    partitionFor: (key, partitions) => inner.partitionFor(key, partitions),
    close: () => inner.close(),
  };
  return { backend, firstDirectReadAt: () => firstRead };
}
