/**
 * Progress on stderr for long CLI operations: a cli-progress bar when stderr is a TTY,
 * nothing at all when it is piped or redirected (so scripts and logs stay clean).
 */
import cliProgress from 'cli-progress';

export interface Progress {
  increment(count: number): void;
  stop(): void;
}

const SILENT: Progress = { increment: () => undefined, stop: () => undefined };

/**
 * A progress bar counting up to `total` items, labelled `label`, on `stream` (stderr).
 * Silent when `stream` is not a TTY, or when `enabled` is false (a command whose data
 * goes to the same terminal passes `!process.stdout.isTTY`, so the bar does not tear
 * its output).
 */
export function startProgress(
  label: string,
  total: number,
  { stream = process.stderr, enabled = true }: { stream?: NodeJS.WriteStream; enabled?: boolean } = {},
): Progress {
  if (!enabled || !stream.isTTY || total === 0) return SILENT;
  const bar = new cliProgress.SingleBar(
    { stream, format: `${label} [{bar}] {percentage}% | {value}/{total} records | {eta_formatted} left`, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    increment: (count) => bar.increment(count),
    stop: () => bar.stop(),
  };
}
