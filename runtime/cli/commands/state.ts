/**
 * `weir state dump -c FILE --store S` prints one JSON object per state entry
 * `{store, partition, key, stateKey, value}`; `weir state clear -c FILE` deletes the
 * job's local state (it is rebuilt from the changelog on the next run).
 */
import type { Command } from 'commander';
import { loadConfig } from '../../../config/index.js';
import { commandGroup, configOption, type RegisterCommand } from '../cli-command.js';
import { LineWriter } from '../line-writer.js';
import { clearState, dumpState } from '../../state-inspection.js';

interface DumpOptions {
  readonly config: string;
  readonly store: string;
}

export const registerStateCommands: RegisterCommand = (program: Command) => {
  const state = commandGroup(program, 'state', "inspect or delete a job's local state");
  state
    .command('dump')
    .description('print every entry of a store as JSON Lines {store, partition, key, stateKey, value}')
    .addOption(configOption())
    .requiredOption('-s, --store <name>', 'store to dump')
    .action(async (options: DumpOptions) => {
      const config = await loadConfig(options.config);
      const out = new LineWriter(process.stdout);
      for await (const entry of dumpState(config, options.store)) await out.write(JSON.stringify(entry));
      await out.flush();
    });
  state
    .command('clear')
    .description("delete the job's local state (rebuilt from the changelog on the next run)")
    .addOption(configOption())
    .action(async (options: { config: string }) => {
      const config = await loadConfig(options.config);
      const base = await clearState(config);
      process.stdout.write(`cleared ${base}\n`);
    });
};
