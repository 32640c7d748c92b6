/**
 * Progress of `weir bench` on stderr: one cli-progress bar showing the worker count,
 * the step (producing input, processing, recovery) and its records, on a TTY; nothing
 * when stderr is piped or redirected, so CI logs and `--json` output stay clean.
 */
import cliProgress from 'cli-progress';
import type { BenchProgressListener, BenchStep } from './bench-runner.js';

/** A listener that draws the bar; call `stop` when the benchmark ends (or fails). */
export interface BenchProgressDisplay extends BenchProgressListener {
  stop(): void;
}

const STEP_NAMES: Record<BenchStep, string> = {
  producing: 'producing input',
  processing: 'processing     ',
  recovery: 'recovering     ',
};

export function benchProgressDisplay(stream: NodeJS.WriteStream = process.stderr): BenchProgressDisplay {
  if (stream.isTTY !== true) {
    return { step: () => undefined, update: () => undefined, runDone: () => undefined, stop: () => undefined };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: 'weir bench | {workers} worker(s) | {step} [{bar}] {value}/{total} records | {rate} records/s',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let stepStart = performance.now();
  return {
    step(workers, step, total) {
      stepStart = performance.now();
      const payload = { workers, step: STEP_NAMES[step], rate: 0 };
      if (!started) {
        bar.start(Math.max(total, 1), 0, payload);
        started = true;
      } else {
        bar.setTotal(Math.max(total, 1));
        bar.update(0, payload);
      }
    },
    update(done) {
      const seconds = (performance.now() - stepStart) / 1000;
      bar.update(done, { rate: seconds > 0 ? Math.round(done / seconds) : 0 });
    },
    runDone: () => undefined,
    stop: () => {
      if (started) bar.stop();
    },
  };
}
