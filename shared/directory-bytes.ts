/** Bytes on disk under a folder: a store partition's size for the metrics, a run's state size for the benches. */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Sum of the sizes of the regular files under `dir`, recursively; 0 when `dir` is missing.
 * Files and folders that vanish while it counts are skipped (LevelDB deletes compacted
 * tables); any other failure to read `dir` itself is thrown.
 */
export async function directoryBytes(dir: string): Promise<number> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  let bytes = 0;
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) bytes += await directoryBytes(path).catch(() => 0);
    else if (entry.isFile()) bytes += (await stat(path).catch(() => undefined))?.size ?? 0;
  }
  return bytes;
}
