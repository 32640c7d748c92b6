/**
 * What a CLI command module provides, and the helpers they share.
 *
 * A command module exports one {@link RegisterCommand}; `main.ts` lists them, so adding
 * a command is one import and one array entry. Commands under a group (`topic dump`,
 * `state clear`) get the group with {@link commandGroup}, which creates it once.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig, type WeirConfig } from '../../config/index.js';
import type { LogBackend } from '../../shared/log/log-backend.js';
import { openLogBackend } from '../open-log-backend.js';

/** Adds one command (or subcommand) to the `weir` program. */
export type RegisterCommand = (program: Command) => void;

/** The subcommand group `name` of `program` (e.g. `topic`), created on first use. */
export function commandGroup(program: Command, name: string, description: string): Command {
  const existing = program.commands.find((command) => command.name() === name);
  return existing ?? program.command(name).description(description);
}

/** `-c, --config <file>` (required; `WEIR_CONFIG` may supply it). */
export function configOption(): Option {
  return new Option('-c, --config <file>', 'weir config file (YAML or JSON)').env('WEIR_CONFIG').makeOptionMandatory();
}

/** Commander parser for an integer option ≥ `min`. */
export function integerAtLeast(min: number): (raw: string) => number {
  return (raw) => {
    const value = Number(raw);
    if (!/^\s*-?\d+\s*$/.test(raw) || !Number.isSafeInteger(value) || value < min) {
      throw new InvalidArgumentError(`expected an integer ≥ ${min}, got "${raw}"`);
    }
    return value;
  };
}

/**
 * Commander parser for an integer option in `min … max`. The bound makes a typo such as
 * `--workers 99999999999` an error naming the option instead of a crash later on.
 */
export function integerInRange(min: number, max: number): (raw: string) => number {
  return (raw) => {
    const value = Number(raw);
    if (!/^\s*-?\d+\s*$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, got "${raw}"`);
    }
    return value;
  };
}

/** Loads the config at `configPath`, opens its log backend, runs `work`, and always closes the backend (a failure of `work` wins over one of the close). */
export async function withLogBackend<T>(
  configPath: string,
  work: (backend: LogBackend, config: WeirConfig) => Promise<T>,
): Promise<T> {
  return withConfigLogBackend(await loadConfig(configPath), work);
}

/** {@link withLogBackend} for a config already loaded. */
export async function withConfigLogBackend<T>(
  config: WeirConfig,
  work: (backend: LogBackend, config: WeirConfig) => Promise<T>,
): Promise<T> {
  const backend = await openLogBackend(config);
  let result: T;
  try {
    result = await work(backend, config);
  } catch (error) {
    // Closing may fail for the same reason the work did (a full disk); the work's error says more.
    await backend.close().catch(() => undefined);
    throw error;
  }
  await backend.close();
  return result;
}
