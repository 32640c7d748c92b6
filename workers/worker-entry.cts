/**
 * The file piscina loads in each worker thread. piscina first `require`s a task file
 * and, on Node 20.19+, that require of an ES module can race with its own fallback
 * `import()` of the same file (preload and first task run concurrently), which Node
 * reports as "Unexpected status of a module that is imported again after being
 * required". A CommonJS entry is required once, cleanly; it imports the ESM task.
 */
import type { WorkerTaskInput } from './worker-task.js';

module.exports = async function runWorkerTask(input: WorkerTaskInput): Promise<void> {
  const { default: workerTask } = await import('./worker-task.js');
  await workerTask(input);
};
