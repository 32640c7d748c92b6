/**
 * A turn of the event loop for code that runs long synchronous stretches on a thread
 * that also answers messages and I/O (a worker's batches, the local log's compactor on
 * the coordinator's thread).
 */

/**
 * Resolves after the event loop's poll phase has run once, delivering the port messages
 * and I/O completions that arrived meanwhile. Two immediates: one alone runs in the check
 * phase of the current loop iteration when the caller was started from the poll phase (a
 * message, an I/O completion), before anything new is polled; the second runs after the
 * next poll phase.
 */
export function eventLoopTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}
