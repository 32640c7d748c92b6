/**
 * A job running in this process with its server, for the server tests: started through
 * `runJob` (as `weir run` does), stopped through its abort signal.
 */
import type { WeirConfig } from '../../config/index.js';
import { runJob } from '../../runtime/job-runner.js';
import type { RunSummary } from '../../runtime/app.js';
import type { RecoveryProgress } from '../../runtime/recovery-runner.js';

export interface ServedJob {
  readonly url: string;
  /** Resolves (or rejects) when the run ends. */
  readonly done: Promise<RunSummary>;
  /** Asks the job to stop and waits for its summary. */
  stop(): Promise<RunSummary>;
}

/** A quiet stand-in for stderr (progress lines). */
const quiet = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;

export async function startServedJob(
  config: WeirConfig,
  options: { untilIdle?: boolean; onRecoveryProgress?: (p: RecoveryProgress) => void; onServerListening?: (url: string) => void } = {},
): Promise<ServedJob> {
  const controller = new AbortController();
  let listening!: (url: string) => void;
  const url = new Promise<string>((resolve) => (listening = resolve));
  const done = runJob(config, {
    signal: controller.signal,
    stream: quiet,
    untilIdle: options.untilIdle === true,
    ...(options.onRecoveryProgress ? { onRecoveryProgress: options.onRecoveryProgress } : {}),
    onServerListening: (u) => {
      options.onServerListening?.(u);
      listening(u);
    },
  });
  // A run that fails before listening must fail the test, not hang it.
  const started = await Promise.race([url, done.then(() => undefined)]);
  if (started === undefined) throw new Error('the job ended before its server listened');
  return {
    url: started,
    done,
    stop: () => {
      controller.abort();
      return done;
    },
  };
}

/** Polls `condition` every 10 ms until it holds (no fixed sleeps: the suite runs on loaded machines). */
export async function waitFor(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A JSON Lines body of `{key, value: {n}}` records. */
export function jsonLines(records: ReadonlyArray<{ key: unknown; value: unknown }>): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + '\n';
}
