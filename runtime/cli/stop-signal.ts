/**
 * SIGINT/SIGTERM for `weir run`, installed before anything else is loaded: a stop that
 * arrives while the process is still starting (loading modules, opening the log) must end
 * the run cleanly, exit 0, like a stop at any later moment, instead of killing the
 * process. The first signal asks the job to stop (final checkpoint); a second one exits at
 * once (code 130, as a shell reports an interrupted command): nothing committed is lost.
 *
 * Only `weir run` gets it: other commands keep Node's default (exit on the signal).
 */
let controller: AbortController | undefined;

/** The first argument that is not an option: the command name. */
function commandOf(argv: readonly string[]): string | undefined {
  return argv.slice(2).find((a) => !a.startsWith('-'));
}

export function installStopSignal(argv: readonly string[] = process.argv): void {
  if (controller !== undefined || commandOf(argv) !== 'run') return;
  const stop = new AbortController();
  controller = stop;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stop.signal.aborted) {
      process.stderr.write(`weir: ${signal} again: exiting without waiting for the final checkpoint\n`);
      process.exit(130);
    }
    process.stderr.write(`weir: ${signal}: stopping after a final checkpoint (again to exit at once)\n`);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (process.env['WEIR_DEBUG'] === '1') process.stderr.write('weir: debug: stop signal handler installed\n');
}

/** The stop signal of this `weir run` process, when {@link installStopSignal} installed one. */
export function stopSignal(): AbortSignal | undefined {
  return controller?.signal;
}

installStopSignal();
