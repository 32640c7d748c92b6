/**
 * The LogBackend the bench child hands to the job: the configured backend, decorated
 * through the interface alone, so it works for every backend.
 *
 * - It notes when the job first reads a partition directly. The runtime reads
 *   partitions outside the consumer group only to replay changelogs, so that read
 *   marks the start of recovery: the replay is timed without thread start-up.
 * - Its group consumer's `poll` keeps polling until the first partitions are assigned
 *   (or {@link FIRST_ASSIGNMENT_TIMEOUT_MS} passes). A Kafka group assigns partitions
 *   only after a rebalance that `poll` drives, and the runtime's until-idle check counts
 *   an empty assignment as idle, so without this a Kafka run would stop before reading
 *   anything. The local backend assigns on subscribe, so nothing changes there.
 */
import type { GroupConsumer, LogBackend, PartitionReader, RebalanceListener } from '../../shared/log/log-backend.js';

/** Give up waiting for a first assignment after this long and let the job decide. */
export const FIRST_ASSIGNMENT_TIMEOUT_MS = 60_000;

export interface BenchBackend {
  readonly backend: LogBackend;
  /** performance.now() of the first PartitionReader.read, if any. */
  firstDirectReadAt(): number | undefined;
}

function waitingForAssignment(inner: GroupConsumer): GroupConsumer {
  let assigned = false;
  const listenerFor = (listener: RebalanceListener): RebalanceListener => ({
    async onAssign(partitions) {
      await listener.onAssign(partitions);
      if (partitions.length > 0) assigned = true;
    },
    onRevoke: (partitions) => listener.onRevoke(partitions),
    ...(listener.onLost === undefined ? {} : { onLost: (partitions) => listener.onLost!(partitions) }),
  });
  const untilAssigned = async <T>(poll: (timeoutMs: number) => Promise<T[]>, timeoutMs: number): Promise<T[]> => {
    const deadline = performance.now() + FIRST_ASSIGNMENT_TIMEOUT_MS;
    for (;;) {
      // While waiting, poll with a real timeout so a zero-timeout caller does not spin.
      const polled = await poll(assigned ? timeoutMs : Math.max(timeoutMs, 100));
      if (assigned || polled.length > 0 || inner.assignment().length > 0 || performance.now() >= deadline) return polled;
    }
  };
  return {
    subscribe: (topics, listener) => inner.subscribe(topics, listenerFor(listener)),
    poll: (maxRecords, timeoutMs) => untilAssigned((t) => inner.poll(maxRecords, t), timeoutMs),
    pollBatches: (maxRecords, timeoutMs) => untilAssigned((t) => inner.pollBatches(maxRecords, t), timeoutMs),
    assignment: () => inner.assignment(),
    pause: (partitions) => inner.pause(partitions),
    resume: (partitions) => inner.resume(partitions),
    seek: (partition, offset) => inner.seek(partition, offset),
    committed: (partitions) => inner.committed(partitions),
    commit: (offsets) => inner.commit(offsets),
    close: () => inner.close(),
  };
}

export function benchBackend(inner: LogBackend): BenchBackend {
  let firstRead: number | undefined;
  const backend: LogBackend = {
    kind: inner.kind,
    createTopic: (name, partitions, config) => inner.createTopic(name, partitions, config),
    describeTopic: (name) => inner.describeTopic(name),
    listTopics: () => inner.listTopics(),
    watermarks: (partition) => inner.watermarks(partition),
    committedOffsets: (group, partitions) => inner.committedOffsets(group, partitions),
    producer: () => inner.producer(),
    consumer: async (group, options) => waitingForAssignment(await inner.consumer(group, options)),
    async reader(): Promise<PartitionReader> {
      const reader = await inner.reader();
      return {
        read(partition, fromOffset, maxRecords) {
          firstRead ??= performance.now();
          return reader.read(partition, fromOffset, maxRecords);
        },
        readEncoded(partition, fromOffset, maxRecords) {
          firstRead ??= performance.now();
          return reader.readEncoded(partition, fromOffset, maxRecords);
        },
        close: () => reader.close(),
      };
    },
    partitionFor: (key, partitions) => inner.partitionFor(key, partitions),
    close: () => inner.close(),
  };
  return { backend, firstDirectReadAt: () => firstRead };
}
