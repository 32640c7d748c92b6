/**
 * The coordinator's young generation.
 *
 * The coordinator handles batches, not records, and what it allocates dies young; V8
 * still grows a process's young generation to its default maximum (two 16 MB semi-spaces)
 * as survivors accumulate over a run, ~28 MB more resident memory than the coordinator
 * needs. The size is fixed when the isolate starts, so only a flag given to `node` sets it:
 * weir's launchers (the `weir` command's shebang, `npm start`) pass
 * {@link COORDINATOR_NODE_FLAGS}. A process embedding weir may pass the same.
 *
 * The flag is process-wide and V8 lets it override a worker's `resourceLimits`, so the
 * pool clears it before starting its threads ({@link clearSemiSpaceFlagForWorkers}): their
 * young generation stays `limits.workerMaxYoungGenerationMb` (docs/data-plane.md, rule 12).
 */
import v8 from 'node:v8';

/** The Node flags weir's launchers start the coordinator's process with. */
export const COORDINATOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];

/**
 * Sets V8's `--max-semi-space-size` back to its default (0: unset) for isolates created
 * from now on, so worker threads size their young generation from their `resourceLimits`.
 * An isolate already running (the coordinator's) keeps the size it started with.
 */
export function clearSemiSpaceFlagForWorkers(): void {
  v8.setFlagsFromString('--max-semi-space-size=0');
}
