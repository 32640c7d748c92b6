/**
 * The coordinator's young generation (runtime/coordinator-heap.ts): weir's launchers start
 * Node with COORDINATOR_NODE_FLAGS, and the worker pool clears the flag so that worker
 * threads keep the young generation their `resourceLimits` give them.
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

/**
 * In a process started with the flags: the new space the main isolate and a worker thread
 * (young generation 16 MB by `resourceLimits`) grow to under the same churn, in MB.
 */
function newSpaces(clear: boolean): { main: number; worker: number } {
  // Both the script and the worker's eval code are ES modules (--input-type=module).
  const churn = `
    const kept = [];
    for (let i = 0; i < 4e6; i++) { kept.push({ i }); if (kept.length > 2e5) kept.length = 0; }
    const newSpaceMb = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 2 ** 20;`;
  const workerCode = `import v8 from 'node:v8'; import { parentPort } from 'node:worker_threads'; ${churn} parentPort.postMessage(newSpaceMb());`;
  const script = `
    import v8 from 'node:v8';
    import { Worker } from 'node:worker_threads';
    ${churn}
    const main = newSpaceMb();
    if (${clear}) (await import(${JSON.stringify(MODULE)})).clearSemiSpaceFlagForWorkers();
    const worker = new Worker(${JSON.stringify(workerCode)}, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 16 } });
    worker.once('message', (mb) => { console.log(JSON.stringify({ main, worker: mb })); worker.terminate(); });`;
  const child = spawnSync(process.execPath, [...COORDINATOR_NODE_FLAGS, '--input-type=module', '-e', script], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`child failed: ${child.stderr}`);
  return JSON.parse(child.stdout) as { main: number; worker: number };
}

t.test('the flags keep the main isolate small; cleared, a worker grows to its own limit', async (t) => {
  const cleared = newSpaces(true);
  t.ok(cleared.main <= 4, `main isolate's new space ${cleared.main} MB (two 2 MB semi-spaces at most)`);
  t.ok(cleared.worker > cleared.main, `worker's new space ${cleared.worker} MB, above the main isolate's`);
  // Not cleared, the process flag would override the worker's resourceLimits.
  const kept = newSpaces(false);
  t.ok(kept.worker <= 4, `without clearing, the worker's new space is capped too (${kept.worker} MB)`);
});

t.test("weir's launchers pass the flags: the `weir` command's shebang and `npm start`", async (t) => {
  const shebang = readFileSync(join(ROOT, 'runtime', 'cli', 'main.ts'), 'utf8').split('\n')[0]!;
  t.equal(shebang, `#!/usr/bin/env -S node ${COORDINATOR_NODE_FLAGS.join(' ')}`);
  const built = readFileSync(join(ROOT, 'dist', 'runtime', 'cli', 'main.js'), 'utf8').split('\n')[0]!;
  t.equal(built, shebang, 'tsc keeps the shebang');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  t.match(pkg.scripts['start'], `node ${COORDINATOR_NODE_FLAGS.join(' ')} dist/examples/count/start.js`);
});
