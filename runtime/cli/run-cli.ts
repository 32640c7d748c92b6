/**
 * Builds the `weir` program from a list of commands and runs it with uniform error
 * handling: a weir error (any `WeirError`, or a system failure such as a full disk that
 * cli-errors.ts names) prints one line `weir: <message>` on stderr and exits 1, with the
 * stack only when `WEIR_DEBUG=1`; any other error is a bug and prints its stack.
 */
import { weirLog } from '../../shared/logging/weir-log.js';
import { Command, Help } from 'commander';
import { WeirError } from '../../shared/errors/weir-error.js';
import type { RegisterCommand } from './cli-command.js';
import { systemErrorOf } from './cli-errors.js';

/** `topic dump` for a nested command, relative to the program root. */
function fullName(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current?.parent; current = current.parent) names.unshift(current.name());
  return names.join(' ');
}

/** The program with every command registered; `--help` lists nested commands too (`topic dump`). */
export function createProgram(commands: readonly RegisterCommand[]): Command {
  const program = new Command('weir')
    .description('weir: stateful stream processing on every core of a Node.js machine')
    .showHelpAfterError()
    .configureHelp({
      visibleCommands(this: Help, command: Command): Command[] {
        const expand = (list: Command[]): Command[] =>
          list.flatMap((sub) => (sub.commands.length > 0 ? [sub, ...expand(Help.prototype.visibleCommands.call(this, sub).filter((c) => c.name() !== 'help'))] : [sub]));
        return expand(Help.prototype.visibleCommands.call(this, command));
      },
      subcommandTerm(this: Help, sub: Command): string {
        const term = Help.prototype.subcommandTerm.call(this, sub);
        // The implicit `help` command is not attached to a parent; keep its own term.
        return sub.parent === null ? term : term.replace(sub.name(), fullName(sub));
      },
    });
  for (const register of commands) register(program);
  return program;
}

/**
 * Prints `error` the way the CLI reports failures and sets exit code 1. A failure of the
 * machine (full disk, a path through a file, a held lock: see cli-errors.ts) is a named
 * error too, reported like a WeirError.
 */
export function reportError(error: unknown, env: NodeJS.ProcessEnv = process.env): void {
  const debug = env['WEIR_DEBUG'] === '1';
  const named = error instanceof WeirError ? error : systemErrorOf(error);
  if (named !== undefined) {
    weirLog.error(named.message, { code: named.code });
    const stack = error instanceof Error ? error.stack : undefined;
    if (debug && stack !== undefined) process.stderr.write(`${stack}\n`);
  } else {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    weirLog.error(`unexpected error: ${detail}`);
  }
  process.exitCode = 1;
}

/** Runs the CLI on `argv` (as `process.argv`). */
export async function runCli(commands: readonly RegisterCommand[], argv: readonly string[]): Promise<void> {
  // `weir topic dump | head`: the reader went away; stop quietly like other Unix tools.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  try {
    await createProgram(commands).parseAsync([...argv]);
  } catch (error) {
    reportError(error);
  }
}
