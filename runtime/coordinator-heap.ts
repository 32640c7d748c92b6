/**
 * The coordinator's heap: its young generation and how far its old generation grows
 * between full collections.
 *
 * The coordinator handles batches, not records, and what it allocates dies young; V8
 * still grows a process's young generation to its default maximum (two 16 MB semi-spaces)
 * as survivors accumulate over a run, ~28 MB more resident memory than the coordinator
 * needs. And V8 lets an old generation whose maximum is 2 GB or more (the default on a
 * machine with a few GB of memory) grow up to 4× between full collections, against 1.3×
 * for a maximum of 256 MB: the coordinator's old generation (~17 MB live on the count job)
 * then waited seconds for a full collection, and the native memory its dead objects held
 * (its ArrayBuffers came to 9–38 MiB during the count job) stayed resident meanwhile, more
 * of it the longer a run went. Both sizes are fixed when the isolate starts, so only flags
 * given to `node` set them: weir's launchers (the `weir` command's shebang, `npm start`)
 * pass {@link COORDINATOR_NODE_FLAGS}. A process embedding weir may pass the same.
 *
 * The flags are process-wide and V8 lets them override a worker's `resourceLimits`, so
 * the pool clears them before starting its threads ({@link clearCoordinatorFlagsForWorkers}):
 * their heaps stay `limits.workerMaxYoungGenerationMb` and `limits.workerMaxOldGenerationMb`
 * (docs/data-plane.md, rule 12).
 */
import v8 from 'node:v8';

/** The Node flags weir's launchers start the coordinator's process with. */
export const COORDINATOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--max-old-space-size=256'];

/**
 * Sets V8's `--max-semi-space-size` and `--max-old-space-size` back to their defaults (0:
 * unset) for isolates created from now on, so worker threads size their heaps from their
 * `resourceLimits`. An isolate already running (the coordinator's) keeps the sizes it
 * started with.
 */
export function clearCoordinatorFlagsForWorkers(): void {
  v8.setFlagsFromString('--max-semi-space-size=0');
  v8.setFlagsFromString('--max-old-space-size=0');
}
