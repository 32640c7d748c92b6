/**
 * `weir run -c FILE [--workers N] [--until-idle]`: runs the configured job. Live
 * throughput on a TTY, a summary at the end; SIGINT/SIGTERM stop it gracefully with a
 * final checkpoint.
 */
import type { Command } from 'commander';
import { loadConfig, MAX_WORKERS, type WeirConfig } from '../../../config/index.js';
import { configOption, integerInRange, type RegisterCommand } from '../cli-command.js';
import { formatSummary, runJob } from '../../job-runner.js';
import { stopSignal } from '../stop-signal.js';

interface RunCommandOptions {
  readonly config: string;
  readonly workers?: number;
  readonly untilIdle?: boolean;
  readonly json?: boolean;
}

export const registerRunCommand: RegisterCommand = (program: Command) => {
  program
    .command('run')
    .description('run the configured job (until stopped, or until idle with --until-idle)')
    .addOption(configOption())
    .option('-w, --workers <n>', `worker threads, 1 to ${MAX_WORKERS} (default: config "workers")`, integerInRange(1, MAX_WORKERS))
    .option('--until-idle', 'stop with a final checkpoint once every assigned partition has been read to its end')
    .option('--json', 'print the summary as one JSON document')
    .action(async (options: RunCommandOptions) => {
      const loaded = await loadConfig(options.config);
      const config: WeirConfig = options.workers === undefined ? loaded : { ...loaded, workers: options.workers };
      const signal = stopSignal();
      const summary = await runJob(config, {
        untilIdle: options.untilIdle === true,
        ...(signal ? { signal } : {}),
        onServerListening: (url) => process.stderr.write(`weir: serving on ${url} (docs/server.md)\n`),
      });
      process.stdout.write(options.json === true ? `${JSON.stringify(summary)}\n` : `${formatSummary(summary)}\n`);
    });
};
