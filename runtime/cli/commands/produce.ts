/**
 * `weir produce -c FILE --topic T [--partitions N]`: appends JSON Lines from stdin to a
 * topic (record format in ../input-record.ts), creating the topic if missing, and
 * prints `produced N records to T` on stdout.
 *
 * All lines are validated before anything is appended (see ../spooled-input.ts): a
 * malformed line fails the command naming its line number and field, and the log is
 * untouched (the topic is not even created). Records are appended in batches of
 * {@link PRODUCE_BATCH_SIZE}, each durable before the next; a crash during the append
 * phase can leave a prefix of the input appended.
 */
import type { Command } from 'commander';
import type { Readable } from 'node:stream';
import type { AppendRecord, LogBackend } from '../../../shared/log/log-backend.js';
import { TopicPartitionCountMismatchError } from '../../../shared/errors/log-errors.js';
import { configOption, integerAtLeast, withLogBackend, type RegisterCommand } from '../cli-command.js';
import { parseInputLine } from '../input-record.js';
import { startProgress } from '../progress.js';
import { spoolAndValidate } from '../spooled-input.js';

export const PRODUCE_BATCH_SIZE = 1000;

interface ProduceOptions {
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

async function produce(options: ProduceOptions, input: Readable): Promise<number> {
  return withLogBackend(options.config, async (backend, config) => {
    const spooled = await spoolAndValidate(input, ({ text, lineNumber }) => parseInputLine(text, lineNumber, options.topic) !== undefined);
    try {
      await ensureTopic(backend, options.topic, options.partitions, config.partitions);
      const producer = await backend.producer();
      const progress = startProgress(`producing to ${options.topic}`, spooled.records);
      try {
        let batch: AppendRecord[] = [];
        for await (const { text, lineNumber } of spooled.lines()) {
          const record = parseInputLine(text, lineNumber, options.topic);
          if (record === undefined) continue;
          batch.push(record);
          if (batch.length >= PRODUCE_BATCH_SIZE) {
            await producer.append(batch);
            progress.increment(batch.length);
            batch = [];
          }
        }
        if (batch.length > 0) {
          await producer.append(batch);
          progress.increment(batch.length);
        }
      } finally {
        progress.stop();
        await producer.close();
      }
      return spooled.records;
    } finally {
      await spooled.dispose();
    }
  });
}

export const registerProduceCommand: RegisterCommand = (program: Command) => {
  program
    .command('produce')
    .description('append JSON Lines records from stdin ({"key", "value", "timestamp"?, "headers"?} per line) to a topic')
    .addOption(configOption())
    .requiredOption('-t, --topic <topic>', 'topic to append to (created if missing)')
    .option('-p, --partitions <n>', 'partitions when creating the topic (default: config "partitions")', integerAtLeast(1))
    .action(async (options: ProduceOptions) => {
      const count = await produce(options, process.stdin);
      process.stdout.write(`produced ${count} records to ${options.topic}\n`);
    });
};
