/**
 * The one spelling of the state directory layout (docs/semantics.md §1.4):
 * `<state.dir>/<appId>/<store>/<streamId>/<partition>`, one LevelDB database per store
 * partition. Every path to state is built here; `runtime/state-paths.ts` checks it lies
 * inside `state.dir` before anything is created or deleted.
 */
import { join } from 'node:path';

/** `<state.dir>/<appId>`: everything of one job. */
export function appStateDir(stateDir: string, appId: string): string {
  return join(stateDir, appId);
}

/** A store's directory of one stream (`streamId` null: a store without one, in tests). */
export function storeDir(appDir: string, store: string, streamId: string | null): string {
  return streamId === null ? join(appDir, store) : join(appDir, store, streamId);
}

/** The database directory of one store partition. */
export function storePartitionDir(appDir: string, store: string, streamId: string | null, partition: number): string {
  return join(storeDir(appDir, store, streamId), String(partition));
}
