/**
 * `weir topic list -c FILE [--json]`: every topic with its partition count, record
 * count (sum of high − low) and per-partition low/high watermarks.
 *
 * Text output (default):
 * ```
 * orders: 8 partitions, 100000 records
 *   partition 0: low 0, high 12503
 * ```
 * `--json`: one line per topic, `{"topic","partitions","records","watermarks":[{"partition","low","high"}]}`.
 */
import type { Command } from 'commander';
import type { LogBackend } from '../../../shared/log/log-backend.js';
import { commandGroup, configOption, withLogBackend, type RegisterCommand } from '../cli-command.js';
import { LineWriter } from '../line-writer.js';

/** One topic as `weir topic list` reports it. */
export interface TopicSummary {
  readonly topic: string;
  readonly partitions: number;
  readonly records: number;
  readonly watermarks: readonly { readonly partition: number; readonly low: number; readonly high: number }[];
}

/** Summaries of every topic in `backend`, sorted by name. */
export async function summarizeTopics(backend: LogBackend): Promise<TopicSummary[]> {
  const topics = (await backend.listTopics()).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return Promise.all(
    topics.map(async ({ name, partitions }) => {
      const watermarks = await Promise.all(
        Array.from({ length: partitions }, async (_, partition) => ({
          partition,
          ...(await backend.watermarks({ topic: name, partition })),
        })),
      );
      const records = watermarks.reduce((sum, w) => sum + (w.high - w.low), 0);
      return { topic: name, partitions, records, watermarks };
    }),
  );
}

function textLines(summary: TopicSummary): string[] {
  const header = `${summary.topic}: ${summary.partitions} partition${summary.partitions === 1 ? '' : 's'}, ${summary.records} record${summary.records === 1 ? '' : 's'}`;
  return [header, ...summary.watermarks.map((w) => `  partition ${w.partition}: low ${w.low}, high ${w.high}`)];
}

interface ListOptions {
  readonly config: string;
  readonly json?: boolean;
}

export const registerTopicListCommand: RegisterCommand = (program: Command) => {
  commandGroup(program, 'topic', 'inspect topics of the configured log')
    .command('list')
    .description('list topics with partition counts, record counts and per-partition low/high watermarks')
    .addOption(configOption())
    .option('--json', 'one JSON object per topic per line')
    .action(async (options: ListOptions) => {
      const summaries = await withLogBackend(options.config, summarizeTopics);
      const writer = new LineWriter(process.stdout);
      if (!options.json && summaries.length === 0) await writer.write('no topics');
      for (const summary of summaries) {
        for (const line of options.json ? [JSON.stringify(summary)] : textLines(summary)) await writer.write(line);
      }
      await writer.flush();
    });
};
