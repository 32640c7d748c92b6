/**
 * Parent side of a benchmark phase: forks bench-child.js, hands it the run's config,
 * relays its progress and returns what it measured. A fresh process per phase keeps
 * peak RSS and CPU per run clean (nothing of an earlier run is still allocated).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WeirConfig } from '../../config/index.js';
import { BenchInterruptedError, BenchRunFailedError } from './bench-errors.js';
import type { BenchPhase, ChildMessage, ChildRequest, ChildRunResult } from './child-protocol.js';

/** The compiled child entry beside this file. */
const CHILD_MODULE = fileURLToPath(new URL('./bench-child.js', import.meta.url));
/** Keep this much of the child's stderr to explain a crash. */
const STDERR_TAIL = 4096;

/**
 * Runs `phase` of the job configured by `config` in a child process; `signal` ends it.
 * @throws BenchRunFailedError with the child's error message (or the tail of its stderr).
 * @throws BenchInterruptedError when `signal` aborted it.
 */
export function runPhaseInChild(
  config: WeirConfig,
  phase: BenchPhase,
  onProgress: (done: number) => void = () => undefined,
  signal?: AbortSignal,
): Promise<ChildRunResult> {
  if (signal?.aborted === true) return Promise.reject(new BenchInterruptedError());
  // No inherited execArgv (test runners add loaders and coverage hooks): measure plain node.
  const child = fork(CHILD_MODULE, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [] });
  let stderr = '';
  const keep = (chunk: Buffer): void => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
  };
  child.stderr?.on('data', keep);
  // The user's pipeline may log; keep it for a failure report instead of mixing it into ours.
  child.stdout?.on('data', keep);
  return new Promise((resolve, reject) => {
    let outcome: ChildMessage | undefined;
    child.on('message', (message: ChildMessage) => {
      if (message.kind === 'progress') onProgress(message.done);
      else outcome = message;
    });
    child.on('error', (error) => reject(new BenchRunFailedError(config.workers, phase, error.message, { cause: error })));
    const stop = (): void => void child.kill('SIGTERM');
    signal?.addEventListener('abort', stop, { once: true });
    child.on('exit', (code, exitSignal) => {
      signal?.removeEventListener('abort', stop);
      if (outcome?.kind === 'result') resolve(outcome.result);
      else if (signal?.aborted === true) reject(new BenchInterruptedError());
      else if (outcome?.kind === 'failed') reject(new BenchRunFailedError(config.workers, phase, outcome.message));
      else {
        const how = exitSignal === null ? `exit code ${String(code)}` : `signal ${exitSignal}`;
        reject(new BenchRunFailedError(config.workers, phase, `the run process ended with ${how}${stderr === '' ? '' : `: ${stderr.trim()}`}`));
      }
    });
    const request: ChildRequest = { kind: 'start', phase, config };
    child.send(request);
  });
}
