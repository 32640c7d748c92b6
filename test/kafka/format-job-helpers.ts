/** Jobs with formats on the mock cluster: config, producing and reading topics. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../config/index.js';
import { KafkaLogBackend } from '../../shared/log/kafka/kafka-log-backend.js';
import type { AppendRecord, LogRecord } from '../../shared/log/log-backend.js';
import type { MockCluster } from './mock-cluster.js';
import { kafkaJobYaml, TEST_CLIENT_PROPERTIES, unique } from './helpers.js';

const PARTITIONS = 4;

/** A Kafka job with the given formats and extra YAML; topics created up front. */
export async function kafkaFormatJob(
  cluster: MockCluster,
  dir: string,
  options: { pipeline: (output: string) => string; inputFormats: string; outputFormats: string; extraYaml?: string; extraTopics?: readonly string[] },
) {
  const appId = unique('app');
  const input = unique('events');
  const output = unique('counts');
  for (const topic of [input, output, `changelog__${appId}--${input}--counts`, ...(options.extraTopics ?? [])]) cluster.createTopic(topic, PARTITIONS);
  await writeFile(join(dir, 'pipeline.mjs'), options.pipeline(output));
  const configPath = join(dir, 'weir.yaml');
  await writeFile(
    configPath,
    kafkaJobYaml(cluster, {
      appId,
      input,
      output,
      inputExtra: options.inputFormats,
      outputExtra: options.outputFormats,
      commitInterval: 0.5,
      ...(options.extraYaml !== undefined ? { extraYaml: options.extraYaml } : {}),
    }),
  );
  return { appId, input, output, configPath, config: () => loadConfig(configPath, {}) };
}

export async function produceTo(cluster: MockCluster, topic: string, records: readonly AppendRecord[]): Promise<void> {
  const backend = await KafkaLogBackend.open({ brokers: cluster.bootstrapServers, clientProperties: TEST_CLIENT_PROPERTIES });
  try {
    const producer = await backend.producer();
    await producer.append(records.map((r) => ({ ...r, topic })));
    await producer.close();
  } finally {
    await backend.close();
  }
}

/** Every record of `topic` (all partitions, up to the high watermarks now). */
export async function readAll(cluster: MockCluster, topic: string): Promise<LogRecord[]> {
  const backend = await KafkaLogBackend.open({ brokers: cluster.bootstrapServers, clientProperties: TEST_CLIENT_PROPERTIES });
  try {
    const reader = await backend.reader();
    const all: LogRecord[] = [];
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const { low, high } = await backend.watermarks({ topic, partition });
      for (let next = low; next < high; ) {
        const batch = await reader.read({ topic, partition }, next, 1000);
        if (batch.length === 0) break;
        all.push(...batch);
        next = batch[batch.length - 1]!.offset + 1;
      }
    }
    await reader.close();
    return all;
  } finally {
    await backend.close();
  }
}

