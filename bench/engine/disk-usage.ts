/** Bytes on disk under a folder (state size of a run). */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Sum of the sizes of all regular files under `dir`, recursively; 0 when it does not exist. */
export async function directoryBytes(dir: string): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  let total = 0;
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await directoryBytes(path);
    else if (entry.isFile()) total += (await stat(path).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
