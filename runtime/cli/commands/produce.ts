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
 * While a job runs on the same local log (it holds the log's lock), the records go through
 * that job's server instead (docs/server.md), with the same validation and output.
 *
 * A UTF-8 byte order mark at the start of the input is ignored; a line that is not valid
 * UTF-8 is appended with U+FFFD for its invalid bytes and named in a warning on stderr.
 */
import type { Command } from 'commander';
import type { Readable } from 'node:stream';
import type { AppendRecord, LogBackend } from '../../../shared/log/log-backend.js';
import { TopicPartitionCountMismatchError } from '../../../shared/errors/log-errors.js';
import { loadConfig, MAX_PARTITIONS, type WeirConfig } from '../../../config/index.js';
import { RemoteJobError } from '../../../shared/errors/server-errors.js';
import { findRunningServer } from '../../server/address-file.js';
import { JobClient } from '../../server/job-client.js';
import { configOption, integerInRange, withConfigLogBackend, type RegisterCommand } from '../cli-command.js';
import { ProduceAppendError } from '../cli-errors.js';
import { parseInputLine } from '../input-record.js';
import { startProgress } from '../progress.js';
import { spoolAndValidate } from '../spooled-input.js';
import type { TopicFormat } from '../../../shared/serialization/topic-formats.js';
import { configuredFormats, formatOptions, topicFormatsFor, type FormatFlags } from '../topic-format-options.js';
import { configureLogging, weirLog } from '../../../shared/logging/weir-log.js';

export const PRODUCE_BATCH_SIZE = 1000;

interface ProduceOptions extends FormatFlags {
  readonly config: string;
  readonly topic: string;
  readonly partitions?: number;
}

/** Creates `topic` if missing and returns its partition count; an existing topic must match an explicit `--partitions`. */
export async function ensureTopic(backend: LogBackend, topic: string, requested: number | undefined, fallback: number): Promise<number> {
  const existing = await backend.describeTopic(topic);
  if (existing === undefined) {
    const partitions = requested ?? fallback;
    await backend.createTopic(topic, partitions);
    return partitions;
  }
  if (requested !== undefined && existing.partitions !== requested) {
    throw new TopicPartitionCountMismatchError(topic, existing.partitions, requested);
  }
  return existing.partitions;
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

/** Most bytes of one request when producing through a running job (far below its body limit). */
const JOB_REQUEST_BYTES = 4 * 1024 * 1024;
/** Most lines of one request when producing through a running job. */
const JOB_REQUEST_LINES = 10_000;

/**
 * `weir produce` through the running job that holds the log (docs/server.md): the same
 * validation of every line first (nothing is sent if one is bad), then requests of up
 * to {@link JOB_REQUEST_LINES} lines, each appended all-or-nothing by the job; a failure
 * says how many records were appended, as a direct produce does.
 */
export async function produceThroughJob(
  client: JobClient,
  options: { readonly topic: string; readonly partitions?: number },
  input: Readable,
  listener: ProduceListener = {},
): Promise<number> {
  const spooled = await spoolAndValidate(input, ({ text, lineNumber }) => parseInputLine(text, lineNumber, options.topic) !== undefined);
  try {
    for (const warning of spooled.invalidUtf8.warnings('input')) listener.warning?.(warning);
    const progress = startProgress(`producing to ${options.topic} through the running job`, spooled.records);
    let appended = 0;
    const send = async (lines: string[], records: number): Promise<void> => {
      try {
        await client.produce(options.topic, `${lines.join('\n')}\n`, options.partitions);
      } catch (error) {
        // The job's own refusals (a partition count mismatch before anything was appended) read as they would directly.
        if (appended === 0 && error instanceof RemoteJobError && error.status < 500) throw error;
        throw new ProduceAppendError(options.topic, appended, spooled.records, error);
      }
      appended += records;
      progress.increment(records);
    };
    try {
      let lines: string[] = [];
      let bytes = 0;
      let records = 0;
      for await (const { text } of spooled.lines()) {
        if (text.trim() === '') continue;
        if (lines.length >= JOB_REQUEST_LINES || (lines.length > 0 && bytes + text.length > JOB_REQUEST_BYTES)) {
          await send(lines, records);
          lines = [];
          bytes = 0;
          records = 0;
        }
        lines.push(text);
        bytes += Buffer.byteLength(text) + 1;
        records += 1;
      }
      // An empty input still creates the topic, as a direct produce does.
      if (lines.length > 0 || appended === 0) await send(lines, records);
    } finally {
      progress.stop();
    }
    return spooled.records;
  } finally {
    await spooled.dispose();
  }
}

/** A client of the live job holding the config's local log, when one runs and answers. */
async function runningJobClient(config: WeirConfig): Promise<JobClient | undefined> {
  if (config.log.backend !== 'local') return undefined;
  const address = await findRunningServer(config);
  if (address === undefined) return undefined;
  const client = new JobClient(address, config.server);
  try {
    const response = await client.request('/healthz');
    await response.text();
    return response.ok ? client : undefined;
  } catch {
    return undefined; // gone since it wrote the file: the log is free (or its lock error says why not)
  }
}

async function produce(options: ProduceOptions, input: Readable): Promise<number> {
  const warning = (message: string): void => {
    weirLog.warn(`warning: ${message}`);
  };
  const config = await loadConfig(options.config);
  configureLogging(config.logging);
  // The running job's produce endpoint takes JSON lines as the default JSON topics store
  // them; a topic with other formats is written directly (docs/server.md).
  const client = writesJson(config, options.topic, options) ? await runningJobClient(config) : undefined;
  if (client !== undefined) {
    return produceThroughJob(
      client,
      { topic: options.topic, ...(options.partitions === undefined ? {} : { partitions: options.partitions }) },
      input,
      { warning },
    );
  }
  return withConfigLogBackend(config, async (backend, config) => {
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
        { warning },
        formats.of(options.topic),
      );
    } finally {
      formats.close();
    }
  });
}

/** `topic` is written with JSON keys and values (its configured formats and the flags). */
function writesJson(config: WeirConfig, topic: string, flags: FormatFlags): boolean {
  const configured = configuredFormats(config, topic);
  return (flags.keyFormat ?? configured.key.type) === 'json' && (flags.valueFormat ?? configured.value.type) === 'json';
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
