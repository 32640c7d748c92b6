/**
 * Coordinator-side registry and lifecycle of the job's stores: changelog topic names,
 * their creation and validation, and the job's state directory. It never opens a state
 * database (workers own those); `weir state clear` is `clearState` (state-inspection.ts).
 */
import { mkdir, stat } from 'node:fs/promises';
import type { LogBackend } from '../shared/log/log-backend.js';
import { changelogTopicName, streamIdOf } from './changelog-topics.js';
import { ChangelogTopicMismatchError } from '../shared/errors/runtime-errors.js';
import { StateDirectoryNotADirectoryError } from '../shared/errors/state-errors.js';
import { appStateDir } from '../workers/state/state-layout.js';
import { resolveInsideStateDir } from './state-paths.js';

export interface StateManagerOptions {
  readonly appId: string;
  /** The configured `state.dir` (absolute). */
  readonly stateDir: string;
  readonly inputTopics: readonly string[];
  readonly stores: readonly string[];
  readonly changelogEnabled: boolean;
}

export class StateManager {
  readonly baseDir: string;
  readonly streamId: string;
  private readonly topics: Readonly<Record<string, string>>;
  private readonly storesByTopic: ReadonlyMap<string, string>;

  constructor(private readonly options: StateManagerOptions) {
    this.baseDir = appStateDir(options.stateDir, options.appId);
    this.streamId = streamIdOf(options.inputTopics);
    this.topics =
      options.changelogEnabled && options.stores.length > 0
        ? Object.fromEntries(options.stores.map((s) => [s, changelogTopicName(options.appId, this.streamId, s)]))
        : {};
    this.storesByTopic = new Map(Object.entries(this.topics).map(([store, topic]) => [topic, store]));
  }

  get stores(): readonly string[] {
    return this.options.stores;
  }

  /** Changelogs are on and there is a store to log. */
  get changelogEnabled(): boolean {
    return this.storesByTopic.size > 0;
  }

  /** Store name → changelog topic (empty when changelogs are off). */
  changelogTopics(): Readonly<Record<string, string>> {
    return this.topics;
  }

  /** Store of a changelog topic, if it is one of ours. */
  storeOfChangelog(topic: string): string | undefined {
    return this.storesByTopic.get(topic);
  }

  /** Create missing changelog topics with the source's partition count; validate existing ones. */
  async ensureChangelogTopics(backend: LogBackend, partitions: number): Promise<void> {
    for (const topic of Object.values(this.changelogTopics())) {
      const existing = await backend.describeTopic(topic);
      if (existing === undefined) {
        await backend.createTopic(topic, partitions, { compact: true });
      } else if (existing.partitions !== partitions) {
        throw new ChangelogTopicMismatchError(topic, partitions, existing.partitions);
      }
    }
  }

  /** Create `<state.dir>/<appId>`, refusing a path that is a file or not inside `state.dir`. */
  async prepareDirectory(): Promise<void> {
    const baseDir = resolveInsideStateDir(this.options.stateDir, this.baseDir);
    const info = await stat(baseDir).catch(() => undefined);
    if (info !== undefined && !info.isDirectory()) throw new StateDirectoryNotADirectoryError(baseDir);
    await mkdir(baseDir, { recursive: true });
  }

}
