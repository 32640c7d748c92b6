/**
 * `weir produce -c FILE --topic T [--partitions N]`: appends JSON Lines from stdin to a
 * topic (record format in ../input-record.ts), creating the topic if missing, and
 * prints `produced N records to T` on stdout.
 *
 * All lines are validated before anything is appended (see ../spooled-input.ts): a
 * malformed line fails the command naming its line number and field, and the log is
 * untouched (the topic is not even created). Records are appended in batches of
 * {@link PRODUCE_BATCH_SIZE}, each durable before the next; a crash during the append
 * phase can leave a prefix of the input appended, and a failed append (a full disk)
 * says how long that prefix is: "appended N of M records before the failure: <cause>".
 *
 * A UTF-8 byte order mark at the start of the input is ignored; a line that is not valid
 * UTF-8 is appended with U+FFFD for its invalid bytes and named in a warning on stderr.
 */
import type { Command } from 'commander';
import type { Readable } from 'node:stream';
import type { AppendRecord, LogBackend } from '../../../shared/log/log-backend.js';
import { TopicPartitionCountMismatchError } from '../../../shared/errors/log-errors.js';
import { MAX_PARTITIONS } from '../../../config/index.js';
import { configOption, integerInRange, withLogBackend, type RegisterCommand } from '../cli-command.js';
import { ProduceAppendError } from '../cli-errors.js';
import { parseInputLine } from '../input-record.js';
import { startProgress } from '../progress.js';
import { spoolAndValidate } from '../spooled-input.js';
import type { TopicFormat } from '../../../shared/serialization/topic-formats.js';
import { formatOptions, topicFormatsFor, type FormatFlags } from '../topic-format-options.js';

export const PRODUCE_BATCH_SIZE = 1000;

interface ProduceOptions extends FormatFlags {
  readonly config: string;
  readonly topic: string;
  readonly partitions?: number;
}

/** Creates `topic` if missing; an existing topic must match an explicit `--partitions`. */
async function ensureTopic(backend: LogBackend, topic: string, requested: number | undefined, fallback: number): Promise<void> {
  const existing = await backend.describeTopic(topic);
  if (existing === undefined) {
    await backend.createTopic(topic, requested ?? fallback);
  } else if (requested !== undefined && existing.partitions !== requested) {
    throw new TopicPartitionCountMismatchError(topic, existing.partitions, requested);
  }
}

/** What {@link produceRecords} reports besides the count. */
export interface ProduceListener {
  /** A warning for stderr (lines that were not valid UTF-8). */
  readonly warning?: (message: string) => void;
}

/**
 * Validates every line of `input`, then appends them to `options.topic` of `backend`
 * (creating it if missing); returns how many records were appended.
 * @throws InputLineError (nothing appended) for a bad line.
 * @throws ProduceAppendError when an append fails, naming how many records are in the topic.
 */
export async function produceRecords(
  backend: LogBackend,
  options: { readonly topic: string; readonly partitions?: number; readonly defaultPartitions: number },
  input: Readable,
  listener: ProduceListener = {},
  formats?: TopicFormat,
): Promise<number> {
  const spooled = await spoolAndValidate(input, ({ text, lineNumber }) => parseInputLine(text, lineNumber, options.topic, formats) !== undefined);
  try {
    for (const warning of spooled.invalidUtf8.warnings('input')) listener.warning?.(warning);
    await ensureTopic(backend, options.topic, options.partitions, options.defaultPartitions);
    const producer = await backend.producer();
    const progress = startProgress(`producing to ${options.topic}`, spooled.records);
    let appended = 0;
    const append = async (batch: AppendRecord[]): Promise<void> => {
      try {
        await producer.append(batch);
      } catch (error) {
        // Earlier batches are durable: say how many, so a re-run can skip them.
        throw new ProduceAppendError(options.topic, appended, spooled.records, error);
      }
      appended += batch.length;
      progress.increment(batch.length);
    };
    try {
      let batch: AppendRecord[] = [];
      for await (const { text, lineNumber } of spooled.lines()) {
        const record = parseInputLine(text, lineNumber, options.topic, formats);
        if (record === undefined) continue;
        batch.push(record);
        if (batch.length >= PRODUCE_BATCH_SIZE) {
          await append(batch);
          batch = [];
        }
      }
      if (batch.length > 0) await append(batch);
    } finally {
      progress.stop();
      await producer.close().catch((error: unknown) => {
        // After a failed append, closing may fail for the same reason; the append's error says more.
        if (appended === spooled.records) throw error;
      });
    }
    return spooled.records;
  } finally {
    await spooled.dispose();
  }
}

async function produce(options: ProduceOptions, input: Readable): Promise<number> {
  return withLogBackend(options.config, async (backend, config) => {
    // Writer schemas are registered (or looked up) before any line is read.
    const formats = await topicFormatsFor(config, options.topic, options, 'write');
    try {
      return await produceRecords(
        backend,
        {
          topic: options.topic,
          defaultPartitions: config.partitions,
          ...(options.partitions === undefined ? {} : { partitions: options.partitions }),
        },
        input,
        { warning: (message) => process.stderr.write(`weir: warning: ${message}\n`) },
        formats.of(options.topic),
      );
    } finally {
      formats.close();
    }
  });
}

export const registerProduceCommand: RegisterCommand = (program: Command) => {
  program
    .command('produce')
    .description('append JSON Lines records from stdin ({"key", "value", "timestamp"?, "headers"?} per line) to a topic')
    .addOption(configOption())
    .requiredOption('-t, --topic <topic>', 'topic to append to (created if missing)')
    .option(
      '-p, --partitions <n>',
      `partitions when creating the topic, 1 to ${MAX_PARTITIONS} (default: config "partitions")`,
      integerInRange(1, MAX_PARTITIONS),
    )
    .addOption(formatOptions('write')[0]!)
    .addOption(formatOptions('write')[1]!)
    .action(async (options: ProduceOptions) => {
      const count = await produce(options, process.stdin);
      process.stdout.write(`produced ${count} records to ${options.topic}\n`);
    });
};
