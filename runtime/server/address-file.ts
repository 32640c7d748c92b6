/**
 * Where a running job's server can be found: a small JSON file the job writes once it
 * listens and removes when it exits (docs/server.md).
 *
 * On the local log the file lies in the log directory (`<log.path>/weir-server.json`):
 * the job holds that directory's lock, so whoever wants to write to the log (`weir
 * produce`, with any config naming the same log) finds the holder there. LevelDB ignores
 * files whose names are not its own. On Kafka there is no directory to hold; the file is
 * in the job's state directory (`<state.dir>/<appId>/weir-server.json`), found by `weir
 * state get` with the job's config.
 *
 * A job killed with SIGKILL leaves its file behind: readers check that the process named
 * in it is alive, and a request that is refused means no job runs.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { WeirConfig } from '../../config/index.js';

export const ADDRESS_FILE_NAME = 'weir-server.json';

/** What the address file holds. No token: a client takes it from its own config. */
export interface ServerAddress {
  /** `http://host:port` */
  readonly url: string;
  readonly pid: number;
  readonly appId: string;
}

/** The address file of the job (or log) `config` names. */
export function addressFilePath(config: WeirConfig): string {
  return config.log.backend === 'local'
    ? join(config.log.path, ADDRESS_FILE_NAME)
    : join(config.state.dir, config.appId, ADDRESS_FILE_NAME);
}

/** Writes the file atomically (a reader never sees half of it). */
export async function writeAddressFile(path: string, address: ServerAddress): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(address)}\n`);
  await rename(temporary, path);
}

/** Removes the file if it still names this process (a newer job may have replaced it). */
export async function removeAddressFile(path: string): Promise<void> {
  const current = await readAddressFile(path);
  if (current === undefined || current.pid === process.pid) await rm(path, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The address in the file, or undefined when there is none, it is unreadable, or its process is gone. */
export async function readAddressFile(path: string): Promise<ServerAddress | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Partial<ServerAddress>;
    if (typeof parsed.url !== 'string' || typeof parsed.pid !== 'number' || typeof parsed.appId !== 'string') return undefined;
    return { url: parsed.url, pid: parsed.pid, appId: parsed.appId };
  } catch {
    return undefined;
  }
}

/** The address of a live job's server for `config`, if one runs. */
export async function findRunningServer(config: WeirConfig): Promise<ServerAddress | undefined> {
  const address = await readAddressFile(addressFilePath(config));
  return address !== undefined && isAlive(address.pid) ? address : undefined;
}
