/**
 * Topic partition counts from cluster metadata, cached so that every append, read and
 * subscribe can check its topic and partition without a broker round trip. A miss
 * refreshes once before reporting the topic missing.
 */
import { PartitionOutOfRangeError, TopicNotFoundError } from '../../errors/log-errors.js';
import type { TopicPartition } from '../log-backend.js';
import type { KafkaContext } from './kafka-context.js';
import { metadata, type Producer } from './rdkafka.js';

export class TopicMetadata {
  private partitionCounts = new Map<string, number>();

  constructor(
    private readonly client: Producer,
    private readonly context: KafkaContext,
  ) {}

  /** Every topic (internal `__` topics excluded) and its partition count, fresh from the cluster. */
  async refresh(): Promise<ReadonlyMap<string, number>> {
    let result;
    try {
      // allTopics: a metadata request naming a topic could auto-create it.
      result = await metadata(this.client, { allTopics: true, timeout: this.context.requestTimeoutMs });
    } catch (error) {
      throw this.context.error('fetch cluster metadata', error);
    }
    const counts = new Map<string, number>();
    for (const topic of result.topics) {
      if (topic.name.startsWith('__') || topic.partitions.length === 0) continue;
      counts.set(topic.name, topic.partitions.length);
    }
    this.partitionCounts = counts;
    return counts;
  }

  /** Partition count of `topic`, `undefined` when it does not exist. */
  async partitions(topic: string, options: { fresh?: boolean } = {}): Promise<number | undefined> {
    const cached = options.fresh ? undefined : this.partitionCounts.get(topic);
    if (cached !== undefined) return cached;
    return (await this.refresh()).get(topic);
  }

  /** Partition count of `topic`. @throws TopicNotFoundError */
  async requireTopic(topic: string): Promise<number> {
    const count = await this.partitions(topic);
    if (count === undefined) throw new TopicNotFoundError(topic);
    return count;
  }

  /** @throws TopicNotFoundError, PartitionOutOfRangeError */
  async requirePartition(tp: TopicPartition): Promise<void> {
    const count = await this.requireTopic(tp.topic);
    if (!Number.isInteger(tp.partition) || tp.partition < 0 || tp.partition >= count) {
      throw new PartitionOutOfRangeError(tp.topic, tp.partition, count);
    }
  }
}
