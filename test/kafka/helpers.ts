/** Small helpers shared by the Kafka tests. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig, type WeirConfig } from '../../config/index.js';
import { countPipelineSource } from '../../examples/count/count-pipeline-source.js';
import type { AppendRecord, GroupConsumer, LogRecord, RebalanceListener, TopicPartition } from '../../shared/log/log-backend.js';
import { KafkaLogBackend, type KafkaBackendOptions } from '../../shared/log/kafka/kafka-log-backend.js';
import type { MockCluster } from './mock-cluster.js';
import { readWholeTopic } from '../runtime/job-fixture.js';

/**
 * Test client settings: a short session (Kafka's default is 45 s) so a killed member is noticed in
 * seconds. Heartbeats come from librdkafka's thread.
 */
export const TEST_CLIENT_PROPERTIES = { 'session.timeout.ms': 6000, 'heartbeat.interval.ms': 500 } as const;

/** A backend on the mock cluster; topics are created through the mock's C API (it does not answer CreateTopics). */
export function openBackend(cluster: MockCluster, extra: Partial<KafkaBackendOptions> = {}): Promise<KafkaLogBackend> {
  return KafkaLogBackend.open({
    brokers: cluster.bootstrapServers,
    clientProperties: { ...TEST_CLIENT_PROPERTIES },
    topicProvisioner: (name, partitions) => cluster.createTopic(name, partitions),
    createTopicTimeoutMs: 1_000,
    ...extra,
  });
}

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function text(value: Uint8Array | null): string | null {
  return value === null ? null : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
}

let counter = 0;
export function unique(base: string): string {
  return `${base}-${process.pid}-${++counter}`;
}

export async function pollUntil(consumer: GroupConsumer, count: number, patienceMs = 20_000): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  const deadline = Date.now() + patienceMs;
  while (records.length < count && Date.now() < deadline) {
    records.push(...(await consumer.poll(count - records.length, 250)));
  }
  return records;
}

export interface RecordedRebalances {
  readonly listener: RebalanceListener;
  readonly events: string[];
}

/** A listener recording `assign:t[0],t[1]` / `revoke:...` events in order. */
export function recordingListener(onAssign?: (partitions: readonly TopicPartition[]) => Promise<void>): RecordedRebalances {
  const events: string[] = [];
  const describe = (partitions: readonly TopicPartition[]) =>
    partitions
      .map((tp) => tp.partition)
      .sort()
      .join(',');
  return {
    events,
    listener: {
      onAssign: async (partitions) => {
        events.push(`assign:${describe(partitions)}`);
        await onAssign?.(partitions);
      },
      onRevoke: async (partitions) => void events.push(`revoke:${describe(partitions)}`),
      onLost: async (partitions) => void events.push(`lost:${describe(partitions)}`),
    },
  };
}

/**
 * The rebalance history with every `revoke:X, assign:X` pair that directly follows an `assign:X`
 * removed. On a loaded machine the mock cluster sometimes runs extra eager rebalances that give a
 * member the same partitions again; they are correct (each revoke matches the assignment before it)
 * and say nothing about the rebalance a test is checking, so tests compare the collapsed history.
 * Throws when a revoke does not match the assignment it follows (that would be a real defect).
 */
export function collapseRepeatedRebalances(events: readonly string[]): string[] {
  const collapsed: string[] = [];
  let owned: string | undefined;
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    const [kind, partitions] = event.split(':') as [string, string];
    if (kind === 'revoke' || kind === 'lost') {
      if (partitions !== owned) throw new Error(`${event} does not match the assignment before it (${owned ?? 'none'}) in ${events.join(' ')}`);
      const next = events[i + 1];
      if (kind === 'revoke' && next === `assign:${owned}`) {
        i++;
        continue;
      }
      owned = undefined;
    } else {
      owned = partitions;
    }
    collapsed.push(event);
  }
  return collapsed;
}

/** What {@link kafkaJobYaml} writes. */
export interface KafkaJobYaml {
  readonly appId: string;
  readonly input: string;
  readonly output: string;
  /** More fields of the `input` / `output` mappings (formats), e.g. `keyFormat: string`. */
  readonly inputExtra?: string;
  readonly outputExtra?: string;
  readonly commitInterval: number;
  readonly guarantee?: 'at-least-once' | 'exactly-once';
  readonly extraYaml?: string;
  /** Client properties over {@link TEST_CLIENT_PROPERTIES}. */
  readonly clientProperties?: Readonly<Record<string, number | string>>;
}

/** The weir.yaml of a count-style job on the mock cluster (state in ./state, pipeline ./pipeline.mjs, 2 workers). */
export function kafkaJobYaml(cluster: MockCluster, job: KafkaJobYaml): string {
  const mapping = (topic: string, extra: string | undefined) => `{ topics: [${topic}]${extra ? `, ${extra}` : ''} }`;
  return [
    `appId: ${job.appId}`,
    'log:',
    '  backend: kafka',
    `  brokers: "${cluster.bootstrapServers}"`,
    '  clientProperties:',
    ...Object.entries({ ...TEST_CLIENT_PROPERTIES, ...job.clientProperties }).map(([k, v]) => `    ${k}: ${v}`),
    'state: { dir: ./state }',
    `input: ${mapping(job.input, job.inputExtra)}`,
    `output: ${mapping(job.output, job.outputExtra)}`,
    'pipeline: ./pipeline.mjs',
    ...(job.guarantee ? [`processingGuarantee: ${job.guarantee}`] : []),
    `commitInterval: ${job.commitInterval}`,
    'workers: 2',
    job.extraYaml ?? '',
  ].join('\n');
}

/** Partitions of every topic {@link kafkaJob} creates. */
export const KAFKA_JOB_PARTITIONS = 4;

/** A job on the mock cluster, as {@link kafkaJob} writes it into its directory. */
export interface KafkaJob {
  readonly dir: string;
  readonly configPath: string;
  readonly appId: string;
  readonly input: string;
  readonly output: string;
  config(env?: Record<string, string>): Promise<WeirConfig>;
}

export interface KafkaJobOptions {
  /** The module's source, or a function of the output topic's name giving it; default the count example. */
  readonly pipeline?: string | ((output: string) => string);
  /** Stores whose changelog topics are created; default `counts`. */
  readonly stores?: readonly string[];
  /** More topics to create (e.g. a dead-letter topic). */
  readonly extraTopics?: readonly string[];
  readonly guarantee?: 'at-least-once' | 'exactly-once';
  /** Seconds; default 0.5. */
  readonly commitInterval?: number;
  /** More fields of the `input` / `output` mappings (formats). */
  readonly inputExtra?: string;
  readonly outputExtra?: string;
  readonly extraYaml?: string;
  /** Client properties over {@link TEST_CLIENT_PROPERTIES}. */
  readonly clientProperties?: Readonly<Record<string, number | string>>;
}

/**
 * A count-style job in `dir` on the mock cluster ({@link kafkaJobYaml}), with unique
 * topic names; its topics are created up front (the mock cannot CreateTopics).
 */
export async function kafkaJob(cluster: MockCluster, dir: string, options: KafkaJobOptions = {}): Promise<KafkaJob> {
  const appId = unique('app');
  const input = unique('events');
  const output = unique('counts');
  const changelogs = (options.stores ?? ['counts']).map((store) => `changelog__${appId}--${input}--${store}`);
  for (const topic of [input, output, ...changelogs, ...(options.extraTopics ?? [])]) cluster.createTopic(topic, KAFKA_JOB_PARTITIONS);
  const pipeline = options.pipeline ?? countPipelineSource;
  await writeFile(join(dir, 'pipeline.mjs'), typeof pipeline === 'string' ? pipeline : pipeline(output));
  const configPath = join(dir, 'weir.yaml');
  await writeFile(
    configPath,
    kafkaJobYaml(cluster, {
      appId,
      input,
      output,
      commitInterval: options.commitInterval ?? 0.5,
      ...(options.guarantee !== undefined ? { guarantee: options.guarantee } : {}),
      ...(options.inputExtra !== undefined ? { inputExtra: options.inputExtra } : {}),
      ...(options.outputExtra !== undefined ? { outputExtra: options.outputExtra } : {}),
      ...(options.extraYaml !== undefined ? { extraYaml: options.extraYaml } : {}),
      ...(options.clientProperties !== undefined ? { clientProperties: options.clientProperties } : {}),
    }),
  );
  return { dir, configPath, appId, input, output, config: (env = {}) => loadConfig(configPath, env) };
}

/** A backend on the mock cluster with the test client settings only (no topic provisioning). */
function plainBackend(cluster: MockCluster): Promise<KafkaLogBackend> {
  return KafkaLogBackend.open({ brokers: cluster.bootstrapServers, clientProperties: TEST_CLIENT_PROPERTIES });
}

/** Appends `records` to `topic` (their own topic is replaced), 2,000 at a time. */
export async function produceTo(cluster: MockCluster, topic: string, records: readonly AppendRecord[]): Promise<void> {
  const backend = await plainBackend(cluster);
  try {
    const producer = await backend.producer();
    for (let i = 0; i < records.length; i += 2000) {
      await producer.append(records.slice(i, i + 2000).map((r) => ({ ...r, topic })));
    }
    await producer.close();
  } finally {
    await backend.close();
  }
}

/** Every record of `topic` (all partitions, up to the high watermarks now). */
export async function readAll(cluster: MockCluster, topic: string): Promise<LogRecord[]> {
  const backend = await plainBackend(cluster);
  try {
    return await readWholeTopic(backend, topic);
  } finally {
    await backend.close();
  }
}
