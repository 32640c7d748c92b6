/**
 * Where one benchmark run lives, so the user's own data is never touched: a copy of
 * the config with a fresh appId (fresh consumer group, fresh changelog topics) and a
 * fresh state directory under the bench's temporary folder, and
 *
 * - local log: a fresh log directory there too, so input, changelogs and outputs are new;
 * - kafka: the configured cluster, with the input going to fresh topics named
 *   `<topic>-<runId>`. Output topics keep their names, because the pipeline emits to
 *   them by name: bench output is appended to the configured output topics.
 */
import { join } from 'node:path';
import type { WeirConfig } from '../../config/index.js';

export interface RunWorkspace {
  /** The config the run uses. */
  readonly config: WeirConfig;
  /** The folder holding this run's local files (state, and the log when local). */
  readonly dir: string;
  /** `<state dir>/<appId>`: this run's state on disk. */
  readonly stateDir: string;
}

/**
 * The workspace of run `runId` (letters, digits, `-`) with `workers` worker threads,
 * under `benchDir` (a fresh temporary folder).
 */
export function runWorkspace(config: WeirConfig, benchDir: string, runId: string, workers: number): RunWorkspace {
  const dir = join(benchDir, runId);
  const appId = `${config.appId}-${runId}`;
  const stateBase = join(dir, 'state');
  const log = config.log.backend === 'local' ? { backend: 'local' as const, path: join(dir, 'log') } : config.log;
  const topics = config.log.backend === 'local' ? config.input.topics : config.input.topics.map((t) => `${t}-${runId}`);
  return {
    config: {
      ...config,
      appId,
      log,
      state: { ...config.state, dir: stateBase },
      workers,
      // A fresh group has no offsets: read the generated input from its start.
      input: { ...config.input, topics, autoOffsetReset: 'earliest' },
    },
    dir,
    stateDir: join(stateBase, appId),
  };
}
