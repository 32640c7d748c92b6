/**
 * `weir run -c FILE [--workers N] [--until-idle [--close-windows]]`: runs the configured job. Live
 * throughput on a TTY, a summary at the end; SIGINT/SIGTERM stop it gracefully with a
 * final checkpoint.
 */
import type { Command } from 'commander';
import { loadConfig, MAX_WORKERS, type WeirConfig } from '../../../config/index.js';
import { configOption, integerInRange, type RegisterCommand } from '../cli-command.js';
import { formatSummary, runJob } from '../../job-runner.js';
import { stopSignal } from '../stop-signal.js';
import { CloseWindowsNeedsUntilIdleError } from '../cli-errors.js';
import { weirLog } from '../../../shared/logging/weir-log.js';

interface RunCommandOptions {
  readonly config: string;
  readonly workers?: number;
  readonly untilIdle?: boolean;
  readonly closeWindows?: boolean;
  readonly json?: boolean;
}

export const registerRunCommand: RegisterCommand = (program: Command) => {
  program
    .command('run')
    .description('run the configured job (until stopped, or until idle with --until-idle)')
    .addOption(configOption())
    .option('-w, --workers <n>', `worker threads, 1 to ${MAX_WORKERS} (default: config "workers")`, integerInRange(1, MAX_WORKERS))
    .option('--until-idle', 'stop with a final checkpoint once every assigned partition has been read to its end; open windows stay open in state')
    .option(
      '--close-windows',
      'with --until-idle: at the end of input close every open window and emit it as a final result; a closed window is never re-opened by later records',
    )
    .option('--json', 'print the summary as one JSON document')
    .addHelpText(
      'after',
      `
Windows at the end of input and after a restart (docs/windows.md):
  Open windows live in state with their changelog. A run stopped by --until-idle or a
  signal leaves them open; the next run (or a rebuild from the changelog) continues them.
  --until-idle --close-windows closes them at the end of input, as final results, and
  moves each key's event-time clock past them: a later record for a closed window is
  late (onLate), later windows open as usual.`,
    )
    .action(async (options: RunCommandOptions) => {
      if (options.closeWindows === true && options.untilIdle !== true) throw new CloseWindowsNeedsUntilIdleError();
      const loaded = await loadConfig(options.config);
      const config: WeirConfig = options.workers === undefined ? loaded : { ...loaded, workers: options.workers };
      const signal = stopSignal();
      const summary = await runJob(config, {
        untilIdle: options.untilIdle === true,
        closeWindows: options.closeWindows === true,
        ...(signal ? { signal } : {}),
        onServerListening: (url) => weirLog.info(`serving on ${url} (docs/server.md)`),
      });
      process.stdout.write(options.json === true ? `${JSON.stringify(summary)}\n` : `${formatSummary(summary)}\n`);
    });
};
