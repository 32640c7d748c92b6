#!/usr/bin/env -S node --max-semi-space-size=2 --max-old-space-size=256
/**
 * The `weir` command (package.json `bin`). To add a command: write a module under
 * `commands/` exporting a `RegisterCommand`, import it here and add it to `COMMANDS`.
 */
// First, before the modules below load: a stop during start-up must end `weir run` cleanly.
import './stop-signal.js';
import type { RegisterCommand } from './cli-command.js';
import { registerProduceCommand } from './commands/produce.js';
import { registerTopicDumpCommand } from './commands/topic-dump.js';
import { registerTopicListCommand } from './commands/topic-list.js';
import { registerRunCommand } from './commands/run.js';
import { registerStateCommands } from './commands/state.js';
import { registerStateGetCommand } from './commands/state-get.js';
import { registerBenchCommand } from './commands/bench.js';
import { runCli } from './run-cli.js';

const COMMANDS: readonly RegisterCommand[] = [
  registerProduceCommand,
  registerTopicDumpCommand,
  registerTopicListCommand,
  registerRunCommand,
  registerStateCommands,
  registerStateGetCommand,
  registerBenchCommand,
];

await runCli(COMMANDS, process.argv);
