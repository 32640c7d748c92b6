/**
 * The `kafka` log backend on @confluentinc/kafka-javascript (librdkafka). It runs on the
 * coordinator thread only: the native client cannot be loaded in worker threads.
 *
 * Limits of the client, not of Kafka: topic configs cannot be read back (no
 * DescribeConfigs in the callback API), so `config.compact` is reported only for topics
 * this backend created in this process; a null header value is sent as an empty one.
 */
import { InvalidLogArgumentError, LogClosedError, TopicPartitionCountMismatchError } from '../../errors/log-errors.js';
import type {
  ConsumerOptions,
  GroupConsumer,
  GroupMember,
  LogBackend,
  LogProducer,
  PartitionReader,
  TopicConfig,
  TopicDescription,
  TopicPartition,
  Watermarks,
} from '../log-backend.js';
import { partitionForKey } from '../murmur2-partitioner.js';
import { groupOffsetsClientConfig, metadataClientConfig } from './client-config.js';
import { describeGroupMembers, type DescribedMember } from './group-description.js';
import { KafkaContext, type KafkaLogger } from './kafka-context.js';
import { KafkaGroupConsumer, readCommitted, type GroupMembers } from './kafka-group-consumer.js';
import { KafkaPartitionReader } from './kafka-partition-reader.js';
import { KafkaLogProducer } from './kafka-producer.js';
import { callback, connect, createAdmin, disconnect, ErrorCode, isLibrdKafkaError, metadata, RdKafka, type IAdminClient, type KafkaConsumer, type LibrdKafkaError, type Producer, type WatermarkOffsets } from './rdkafka.js';
import type { ClientProperties } from './secret-redaction.js';
import { TopicMetadata } from './topic-metadata.js';

export interface KafkaBackendOptions {
  /** Bootstrap brokers, `host:port` each, as a list or one comma-separated string. */
  readonly brokers: readonly string[] | string;
  /** librdkafka properties passed through to every client (security settings included). */
  readonly clientProperties?: ClientProperties;
  /** `client.id` of every client; default `weir`. */
  readonly clientId?: string;
  /** Receives librdkafka's log lines and errors, secrets redacted. */
  readonly logger?: KafkaLogger;
  /** `transactional.id` of the exactly-once producer; default `weir-<uuid>`. Give each process its own stable id. */
  readonly transactionalId?: string;
  /** Budget of one broker request (metadata, watermarks, commits, transactions). Default 10,000 ms. */
  readonly requestTimeoutMs?: number;
  /** Budget of a CreateTopics request before falling back to auto-creation. Default 10,000 ms. */
  readonly createTopicTimeoutMs?: number;
  /**
   * Creates topics instead of a CreateTopics request, for clusters that do not accept
   * one: librdkafka's mock cluster in tests, or clusters whose topics are provisioned
   * out of band. The backend then waits for the topic to appear and validates it.
   */
  readonly topicProvisioner?: (name: string, partitions: number, config: TopicConfig) => Promise<void> | void;
  /** A partition read fails when it reaches neither `maxRecords` nor the end in this time. Default 30,000 ms. */
  readonly readTimeoutMs?: number;
}

/** How long a group description answers `partitionOwner` before it is asked again. */
const GROUP_DESCRIPTION_TTL_MS = 2_000;

export class KafkaLogBackend implements LogBackend {
  readonly kind = 'kafka' as const;
  private readonly admin: IAdminClient;
  private readonly topics: TopicMetadata;
  /** Configs this backend created topics with (the client cannot read them back). */
  private readonly createdConfigs = new Map<string, TopicConfig>();
  /** Non-member consumers per group: committed offsets and transaction group metadata. */
  private readonly groupClients = new Map<string, Promise<KafkaConsumer>>();
  private readonly members = new Map<string, KafkaConsumer[]>();
  private readonly closeables = new Set<{ close(): Promise<void> }>();
  private closed = false;
  /** Recent group descriptions (partitionOwner), kept briefly: one child process per group and moment. */
  private readonly groupDescriptions = new Map<string, { at: number; members: Promise<DescribedMember[] | undefined> }>();

  private constructor(
    private readonly context: KafkaContext,
    private readonly metadataClient: Producer,
    private readonly options: KafkaBackendOptions,
  ) {
    this.admin = createAdmin(metadataClient);
    this.topics = new TopicMetadata(metadataClient, context);
  }

  /** Connects to the cluster. @throws InvalidLogArgumentError for missing brokers, KafkaClientError when unreachable. */
  static async open(options: KafkaBackendOptions): Promise<KafkaLogBackend> {
    const brokers = (typeof options.brokers === 'string' ? options.brokers.split(',') : [...options.brokers])
      .map((broker) => broker.trim())
      .filter((broker) => broker.length > 0);
    if (brokers.length === 0) throw new InvalidLogArgumentError('brokers', options.brokers, 'at least one host:port');
    const context = new KafkaContext(
      { bootstrapServers: brokers.join(','), clientId: options.clientId ?? 'weir', properties: options.clientProperties ?? {} },
      options.logger,
      options.requestTimeoutMs ?? 10_000,
    );
    let client: Producer;
    try {
      client = new RdKafka.Producer(metadataClientConfig(context.config));
    } catch (error) {
      throw context.error('create metadata client', error);
    }
    context.attachLogging(client, 'metadata');
    try {
      await connect(client, context.requestTimeoutMs);
    } catch (error) {
      throw context.error(`connect to ${context.config.bootstrapServers}`, error);
    }
    return new KafkaLogBackend(context, client, options);
  }

  async createTopic(name: string, partitions: number, config: TopicConfig = {}): Promise<void> {
    this.assertOpen();
    if (typeof name !== 'string' || name.length === 0) throw new InvalidLogArgumentError('topic', name, 'a non-empty topic name');
    if (!Number.isInteger(partitions) || partitions < 1) {
      throw new InvalidLogArgumentError('partitions', partitions, 'a positive integer');
    }
    if ((await this.topics.partitions(name, { fresh: true })) === undefined) {
      await this.requestTopic(name, partitions, config);
    }
    const existing = await this.topics.partitions(name, { fresh: true });
    if (existing === undefined) throw this.context.error(`create topic "${name}"`, 'the topic is still missing after creation');
    if (existing !== partitions) throw new TopicPartitionCountMismatchError(name, existing, partitions);
    if (!this.createdConfigs.has(name)) this.createdConfigs.set(name, { ...config });
  }

  /** CreateTopics; when the request times out (librdkafka's mock cluster never answers it), auto-creation by a metadata request. */
  private async requestTopic(name: string, partitions: number, config: TopicConfig): Promise<void> {
    const provisioner = this.options.topicProvisioner;
    if (provisioner !== undefined) {
      try {
        await provisioner(name, partitions, config);
      } catch (error) {
        throw this.context.error(`provision topic "${name}"`, error);
      }
      this.createdConfigs.set(name, { ...config });
      await this.awaitTopic(name);
      return;
    }
    const timeoutMs = this.options.createTopicTimeoutMs ?? 10_000;
    try {
      await callback<void>((cb) =>
        this.admin.createTopic(
          {
            topic: name,
            num_partitions: partitions,
            replication_factor: -1,
            config: config.compact ? { 'cleanup.policy': 'compact' } : {},
          },
          timeoutMs,
          (error: LibrdKafkaError | null | undefined) => cb(error, undefined),
        ),
      );
      this.createdConfigs.set(name, { ...config });
    } catch (error) {
      if (isLibrdKafkaError(error) && error.code === ErrorCode.TOPIC_ALREADY_EXISTS) return;
      if (!isLibrdKafkaError(error) || error.code !== ErrorCode.TIMED_OUT) throw this.context.error(`create topic "${name}"`, error);
      this.context.log('warn', `CreateTopics for "${name}" timed out after ${timeoutMs} ms; relying on broker auto-creation`);
      await this.autoCreate(name);
    }
  }

  private async autoCreate(name: string): Promise<void> {
    try {
      await metadata(this.metadataClient, { topic: name, timeout: this.context.requestTimeoutMs });
    } catch (error) {
      throw this.context.error(`auto-create topic "${name}"`, error);
    }
    await this.awaitTopic(name);
  }

  /** Metadata can lag a creation by a moment. */
  private async awaitTopic(name: string): Promise<void> {
    const deadline = Date.now() + this.context.requestTimeoutMs;
    while ((await this.topics.partitions(name, { fresh: true })) === undefined && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async describeTopic(name: string): Promise<TopicDescription | undefined> {
    this.assertOpen();
    const partitions = await this.topics.partitions(name, { fresh: true });
    return partitions === undefined ? undefined : this.description(name, partitions);
  }

  async listTopics(): Promise<TopicDescription[]> {
    this.assertOpen();
    const all = await this.topics.refresh();
    return [...all].map(([name, partitions]) => this.description(name, partitions));
  }

  private description(name: string, partitions: number): TopicDescription {
    return { name, partitions, config: { ...(this.createdConfigs.get(name) ?? {}) } };
  }

  async watermarks(partition: TopicPartition): Promise<Watermarks> {
    this.assertOpen();
    await this.topics.requirePartition(partition);
    try {
      const marks = await callback<WatermarkOffsets>((cb) =>
        this.metadataClient.queryWatermarkOffsets(partition.topic, partition.partition, this.context.requestTimeoutMs, cb),
      );
      return { low: marks.lowOffset, high: marks.highOffset };
    } catch (error) {
      throw this.context.error(`query watermarks of ${partition.topic}[${partition.partition}]`, error);
    }
  }

  async committedOffsets(group: string, partitions: readonly TopicPartition[]): Promise<Map<string, number | undefined>> {
    this.assertOpen();
    return readCommitted(this.context, await this.groupClient(group), group, partitions);
  }

  async producer(): Promise<LogProducer> {
    this.assertOpen();
    const producer = await KafkaLogProducer.open(
      this.context,
      this.topics,
      (group) => this.groupMetadataSource(group),
      this.options.transactionalId,
    );
    return this.track(producer);
  }

  async consumer(group: string, options: ConsumerOptions = {}): Promise<GroupConsumer> {
    this.assertOpen();
    const members: GroupMembers = {
      add: (name, consumer) => this.members.set(name, [...(this.members.get(name) ?? []), consumer]),
      remove: (name, consumer) => this.members.set(name, (this.members.get(name) ?? []).filter((c) => c !== consumer)),
    };
    return this.track(await KafkaGroupConsumer.open(this.context, this.topics, members, group, options));
  }

  async reader(): Promise<PartitionReader> {
    this.assertOpen();
    return this.track(await KafkaPartitionReader.open(this.context, this.topics, this.options.readTimeoutMs ?? 30_000));
  }

  /**
   * The member of `group` assigned `partition`, from the coordinator's group description
   * (DescribeGroups: member id, client id, host, assignment), asked in a child process
   * (group-description.ts: the binding's describeGroups can crash its process) and reused
   * for {@link GROUP_DESCRIPTION_TTL_MS}; `undefined` when no member has it (a rebalance,
   * an empty group) or the description failed (e.g. a cluster without DescribeGroups).
   */
  async partitionOwner(group: string, partition: TopicPartition): Promise<GroupMember | undefined> {
    this.assertOpen();
    let cached = this.groupDescriptions.get(group);
    if (cached === undefined || performance.now() - cached.at > GROUP_DESCRIPTION_TTL_MS) {
      cached = { at: performance.now(), members: describeGroupMembers(metadataClientConfig(this.context.config), group, this.context.requestTimeoutMs) };
      this.groupDescriptions.set(group, cached);
    }
    const members = await cached.members;
    const owner = members?.find((m) => m.partitions.some((tp) => tp.topic === partition.topic && tp.partition === partition.partition));
    return owner === undefined ? undefined : { memberId: owner.memberId, clientId: owner.clientId, host: owner.host };
  }

  partitionFor(key: Uint8Array | null, partitions: number): number {
    if (!Number.isInteger(partitions) || partitions < 1) throw new InvalidLogArgumentError('partitions', partitions, 'a positive integer');
    // librdkafka's murmur2_random: null keys go to a random partition.
    if (key === null) return Math.floor(Math.random() * partitions);
    return partitionForKey(key, partitions);
  }

  /** Closes every producer, consumer and reader this backend opened, then its own clients. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.closeables].map((closeable) => closeable.close().catch(() => undefined)));
    const groupClients = await Promise.all([...this.groupClients.values()].map((client) => client.catch(() => undefined)));
    await Promise.all(groupClients.map((client) => client && disconnect(client)));
    await disconnect(this.metadataClient);
  }

  /** A live member's consumer (its generation fences zombies), else a non-member one. */
  private async groupMetadataSource(group: string): Promise<KafkaConsumer> {
    const member = this.members.get(group)?.[0];
    return member ?? this.groupClient(group);
  }

  private groupClient(group: string): Promise<KafkaConsumer> {
    let client = this.groupClients.get(group);
    if (client === undefined) {
      client = this.openGroupClient(group);
      this.groupClients.set(group, client);
      client.catch(() => this.groupClients.delete(group));
    }
    return client;
  }

  private async openGroupClient(group: string): Promise<KafkaConsumer> {
    let consumer: KafkaConsumer;
    try {
      consumer = new RdKafka.KafkaConsumer(groupOffsetsClientConfig(this.context.config, group));
    } catch (error) {
      throw this.context.error(`create offsets client of group "${group}"`, error);
    }
    this.context.attachLogging(consumer, `offsets ${group}`);
    try {
      await connect(consumer, this.context.requestTimeoutMs);
    } catch (error) {
      throw this.context.error(`connect offsets client of group "${group}"`, error);
    }
    return consumer;
  }

  private track<T extends { close(): Promise<void> }>(closeable: T): T {
    this.closeables.add(closeable);
    const close = closeable.close.bind(closeable);
    closeable.close = async () => {
      this.closeables.delete(closeable);
      await close();
    };
    return closeable;
  }

  private assertOpen(): void {
    if (this.closed) throw new LogClosedError('kafka log backend');
  }
}

