/**
 * `weir state get -c FILE --store S --key K [--state-key SK] [--from MS --to MS]`: the
 * state of one message key, one JSON object per entry `{store, partition, key, stateKey,
 * value}` as `weir state dump` prints them. While the job runs it is asked (its server,
 * docs/server.md: the committed state, answered by the worker owning the key); otherwise
 * the stores are read directly. Keys are JSON (`'"user-1"'`), or plain text when not JSON.
 */
import type { Command } from 'commander';
import { loadConfig, type WeirConfig } from '../../../config/index.js';
import { commandGroup, configOption, integerAtLeast, type RegisterCommand } from '../cli-command.js';
import { LineWriter } from '../line-writer.js';
import { dumpState, type StateEntry } from '../../state-inspection.js';
import { findRunningServer } from '../../server/address-file.js';
import { JobClient } from '../../server/job-client.js';
import type { QueryReply } from '../../server/query-routes.js';
import { RemoteJobError } from '../../../shared/errors/server-errors.js';

interface GetOptions {
  readonly config: string;
  readonly store: string;
  readonly key: string;
  readonly stateKey?: string;
  readonly from?: number;
  readonly to?: number;
}

/** One printed entry. */
/** One entry `weir state get` prints: as `weir state dump` shows it. */
export type StateGetEntry = StateEntry;

function asJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return JSON.stringify(text);
  }
}

async function viaJob(client: JobClient, options: GetOptions): Promise<StateGetEntry[]> {
  const path = [options.store, 'keys', options.key, ...(options.stateKey === undefined ? [] : [options.stateKey])].map(encodeURIComponent);
  const query = new URLSearchParams();
  if (options.from !== undefined) query.set('from', String(options.from));
  if (options.to !== undefined) query.set('to', String(options.to));
  const response = await client.request(`/stores/${path.join('/')}${query.size > 0 ? `?${query}` : ''}`);
  if (response.status === 404 && options.stateKey !== undefined) {
    const body = (await response.json()) as { error?: string; message?: string };
    if (body.error === 'NOT_FOUND') return [];
    throw new RemoteJobError(response.status, body.error ?? 'UNKNOWN', body.message ?? `the job answered ${response.status}`);
  }
  const reply = await client.json<QueryReply>(response);
  return reply.entries.map((e) => ({ store: options.store, partition: reply.partition, ...e }));
}

async function direct(config: WeirConfig, options: GetOptions): Promise<StateGetEntry[]> {
  const key = asJson(options.key);
  const stateKey = options.stateKey === undefined ? undefined : asJson(options.stateKey);
  const out: StateGetEntry[] = [];
  for await (const entry of dumpState(config, options.store)) {
    if (JSON.stringify(entry.key) !== key) continue;
    if (stateKey !== undefined && JSON.stringify(entry.stateKey) !== stateKey) continue;
    if (options.from !== undefined || options.to !== undefined) {
      const window = entry.stateKey as { start?: unknown; end?: unknown } | null;
      if (typeof window?.start !== 'number' || typeof window.end !== 'number') continue;
      if (options.from !== undefined && window.end <= options.from) continue;
      if (options.to !== undefined && window.start >= options.to) continue;
    }
    out.push(entry);
  }
  return out;
}

/** The entries of the key: from the running job when one answers, else from the stores. */
export async function getState(config: WeirConfig, options: GetOptions): Promise<StateGetEntry[]> {
  const address = await findRunningServer(config);
  if (address !== undefined) {
    const client = new JobClient(address, config.server);
    const healthy = await client.request('/healthz').then((r) => r.ok, () => false);
    if (healthy) return viaJob(client, options);
  }
  return direct(config, options);
}

export const registerStateGetCommand: RegisterCommand = (program: Command) => {
  commandGroup(program, 'state', "inspect or delete a job's local state")
    .command('get')
    .description('print the state of one message key as JSON Lines {store, partition, key, stateKey, value} (asks the running job when there is one)')
    .addOption(configOption())
    .requiredOption('-s, --store <name>', 'store to read')
    .requiredOption('-k, --key <key>', 'message key: JSON (\'"user-1"\', 42) or plain text')
    .option('--state-key <key>', 'only this state key (JSON, or a bare word for a string)')
    .option('--from <ms>', 'window stores: windows ending after this epoch ms', integerAtLeast(0))
    .option('--to <ms>', 'window stores: windows starting before this epoch ms', integerAtLeast(0))
    .action(async (options: GetOptions) => {
      const config = await loadConfig(options.config);
      const out = new LineWriter(process.stdout);
      for (const entry of await getState(config, options)) await out.write(JSON.stringify(entry));
      await out.flush();
    });
};
