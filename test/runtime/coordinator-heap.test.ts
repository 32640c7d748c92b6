/**
 * The coordinator's heap (runtime/coordinator-heap.ts): weir's launchers start Node with
 * COORDINATOR_NODE_FLAGS, and the worker pool clears the flags so that worker threads keep
 * the young and old generations their `resourceLimits` give them.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COORDINATOR_NODE_FLAGS } from '../../runtime/coordinator-heap.js';

/** The repository root: this file runs from dist/test/runtime/. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const MODULE = join(ROOT, 'dist', 'runtime', 'coordinator-heap.js');

interface HeapSizes {
  /** New space grown to under the same churn, MB. */
  readonly main: number;
  readonly worker: number;
  /** V8's heap size limit, MB. */
  readonly mainLimit: number;
  readonly workerLimit: number;
}

/**
 * In a process started with the flags: the new space the main isolate and a worker thread
 * (young generation 16 MB, old generation 1024 MB by `resourceLimits`) grow to under the
 * same churn, and their heap size limits, in MB.
 */
function heapSizes(clear: boolean): HeapSizes {
  // Both the script and the worker's eval code are ES modules (--input-type=module).
  const churn = `
    const kept = [];
    for (let i = 0; i < 4e6; i++) { kept.push({ i }); if (kept.length > 2e5) kept.length = 0; }
    const newSpaceMb = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 2 ** 20;
    const limitMb = () => v8.getHeapStatistics().heap_size_limit / 2 ** 20;`;
  const workerCode = `import v8 from 'node:v8'; import { parentPort } from 'node:worker_threads'; ${churn} parentPort.postMessage([newSpaceMb(), limitMb()]);`;
  const script = `
    import v8 from 'node:v8';
    import { Worker } from 'node:worker_threads';
    ${churn}
    const main = newSpaceMb();
    const mainLimit = limitMb();
    if (${clear}) (await import(${JSON.stringify(MODULE)})).clearCoordinatorFlagsForWorkers();
    const worker = new Worker(${JSON.stringify(workerCode)}, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 1024 } });
    worker.once('message', ([mb, limit]) => { console.log(JSON.stringify({ main, worker: mb, mainLimit, workerLimit: limit })); worker.terminate(); });`;
  const child = spawnSync(process.execPath, [...COORDINATOR_NODE_FLAGS, '--input-type=module', '-e', script], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`child failed: ${child.stderr}`);
  return JSON.parse(child.stdout) as HeapSizes;
}

t.test('the flags keep the main isolate small; cleared, a worker grows to its own limits', async (t) => {
  const cleared = heapSizes(true);
  t.ok(cleared.main <= 4, `main isolate's new space ${cleared.main} MB (two 2 MB semi-spaces at most)`);
  t.ok(cleared.worker > cleared.main, `worker's new space ${cleared.worker} MB, above the main isolate's`);
  // The limit counts the young generation too: 256 MB old + a few MB.
  t.ok(cleared.mainLimit >= 256 && cleared.mainLimit < 320, `main isolate's heap limit ${cleared.mainLimit} MB (old generation 256 MB)`);
  t.ok(cleared.workerLimit >= 1024, `worker's heap limit ${cleared.workerLimit} MB (its resourceLimits: 1024 MB old generation)`);
  // Not cleared, the process flags would override the worker's resourceLimits.
  const kept = heapSizes(false);
  t.ok(kept.worker <= 4, `without clearing, the worker's new space is capped too (${kept.worker} MB)`);
  t.ok(kept.workerLimit < 320, `and its old generation (${kept.workerLimit} MB)`);
});

t.test("weir's launchers pass the flags: the `weir` command's shebang and `npm start`", async (t) => {
  const shebang = readFileSync(join(ROOT, 'runtime', 'cli', 'main.ts'), 'utf8').split('\n')[0]!;
  t.equal(shebang, `#!/usr/bin/env -S node ${COORDINATOR_NODE_FLAGS.join(' ')}`);
  const built = readFileSync(join(ROOT, 'dist', 'runtime', 'cli', 'main.js'), 'utf8').split('\n')[0]!;
  t.equal(built, shebang, 'tsc keeps the shebang');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  t.match(pkg.scripts['start'], `node ${COORDINATOR_NODE_FLAGS.join(' ')} dist/examples/count/start.js`);
});
