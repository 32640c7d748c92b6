/**
 * `weir topic dump -c FILE --topic T [--partition P]`: prints every record of a topic
 * (or of one partition) from the low watermark up to the high watermark seen at start,
 * partition by partition, one JSON object per line (format in ../output-record.ts), and
 * exits.
 *
 * There is no `--from-beginning`: kafka-console-consumer needs it because it follows a
 * topic and by default shows only records that arrive after it starts; a dump that exits
 * at the end would print nothing that way, so it always starts at the beginning (the low
 * watermark). The flag used to be accepted and ignored; it is now an unknown option, so
 * nobody relies on a meaning it never had.
 */
import type { Command } from 'commander';
import { PartitionOutOfRangeError, TopicNotFoundError } from '../../../shared/errors/log-errors.js';
import type { LogBackend, TopicPartition } from '../../../shared/log/log-backend.js';
import { commandGroup, configOption, integerAtLeast, withLogBackend, type RegisterCommand } from '../cli-command.js';
import { LineWriter } from '../line-writer.js';
import { toDumpObject } from '../output-record.js';
import { startProgress } from '../progress.js';
import type { TopicFormat } from '../../../shared/serialization/topic-formats.js';
import { formatOptions, topicFormatsFor, type FormatFlags } from '../topic-format-options.js';

const READ_BATCH = 1000;

interface DumpOptions extends FormatFlags {
  readonly config: string;
  readonly topic: string;
  readonly partition?: number;
}

/** The partitions to dump; checks the topic exists and `partition` is in range. */
async function partitionsToDump(backend: LogBackend, topic: string, partition: number | undefined): Promise<TopicPartition[]> {
  const description = await backend.describeTopic(topic);
  if (description === undefined) throw new TopicNotFoundError(topic);
  if (partition !== undefined) {
    if (partition >= description.partitions) throw new PartitionOutOfRangeError(topic, partition, description.partitions);
    return [{ topic, partition }];
  }
  return Array.from({ length: description.partitions }, (_, p) => ({ topic, partition: p }));
}

/** Writes the records of `options.topic` to `out`; returns how many. */
export async function dumpTopic(
  backend: LogBackend,
  options: Pick<DumpOptions, 'topic' | 'partition'>,
  out: NodeJS.WritableStream,
  formats?: TopicFormat,
): Promise<number> {
  const partitions = await partitionsToDump(backend, options.topic, options.partition);
  const ranges = await Promise.all(partitions.map(async (tp) => ({ tp, ...(await backend.watermarks(tp)) })));
  const total = ranges.reduce((sum, range) => sum + (range.high - range.low), 0);
  const reader = await backend.reader();
  const writer = new LineWriter(out);
  const progress = startProgress(`dumping ${options.topic}`, total, { enabled: out !== process.stdout || !process.stdout.isTTY });
  let count = 0;
  try {
    for (const { tp, low, high } of ranges) {
      let next = low;
      while (next < high) {
        const records = await reader.read(tp, next, Math.min(READ_BATCH, high - next));
        if (records.length === 0) break; // nothing more to read below the start high watermark
        if (formats !== undefined) await prepareFormats(records, formats);
        for (const record of records) {
          if (record.offset >= high) break;
          await writer.write(JSON.stringify(toDumpObject(record, formats)));
          count += 1;
        }
        progress.increment(records.length);
        next = (records[records.length - 1] as (typeof records)[number]).offset + 1;
      }
    }
    await writer.flush();
  } finally {
    progress.stop();
    await reader.close();
  }
  return count;
}

/** Fetches the writer schemas these records need; a registry that does not answer fails the dump (named). */
async function prepareFormats(records: readonly { key: Uint8Array | null; value: Uint8Array | null }[], formats: TopicFormat): Promise<void> {
  const pending: Promise<void>[] = [];
  for (const r of records) {
    if (r.key !== null) pending.push(formats.key.prepare?.(r.key) ?? Promise.resolve());
    if (r.value !== null) pending.push(formats.value.prepare?.(r.value) ?? Promise.resolve());
  }
  await Promise.all(pending);
}

export const registerTopicDumpCommand: RegisterCommand = (program: Command) => {
  commandGroup(program, 'topic', 'inspect topics of the configured log')
    .command('dump')
    .description(
      'print every record of a topic, from the beginning (low watermark) of each partition to its end at start, as JSON Lines: ' +
        '{topic, partition, offset, key, value, timestamp, headers}; then exit',
    )
    .addOption(configOption())
    .requiredOption('-t, --topic <topic>', 'topic to dump')
    .option('-p, --partition <p>', 'dump only this partition', integerAtLeast(0))
    .addOption(formatOptions('read')[0]!)
    .addOption(formatOptions('read')[1]!)
    .action(async (options: DumpOptions) => {
      await withLogBackend(options.config, async (backend, config) => {
        const formats = await topicFormatsFor(config, options.topic, options, 'read');
        try {
          return await dumpTopic(backend, options, process.stdout, formats.of(options.topic));
        } finally {
          formats.close();
        }
      });
    });
};
