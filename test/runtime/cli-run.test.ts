/**
 * `weir run` and `weir state` through the CLI, as users run them: the two-stores example
 * (a TypeScript pipeline loaded without a build step), the summary, state dump of both
 * stores, graceful stop on SIGTERM with a final checkpoint.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { runWeir, TEXT_LOGS_ENV, WEIR_MAIN } from '../cli/fixtures/run-weir.js';
import { appendEvents, createJobFixture, generateEvents, modelCounts, stateCounts } from './job-fixture.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));


t.test('the two-stores example: produce, run until idle, dump both stores', async (t) => {
  const dir = t.testdir();
  const configPath = join(dir, 'weir.yaml');
  await writeFile(
    configPath,
    [
      'appId: purchase-stats',
      'log: { backend: local, path: ./log }',
      'state: { dir: ./state }',
      'input: { topics: [purchases] }',
      'output: { topics: [stats] }',
      `pipeline: ${join(repo, 'examples/two-stores/pipeline.ts')}`,
      'partitions: 4',
    ].join('\n'),
  );
  const input = await readFile(join(repo, 'examples/two-stores/purchases.jsonl'), 'utf8');
  const produced = await runWeir(['produce', '-c', configPath, '--topic', 'purchases'], { input });
  t.equal(produced.code, 0, produced.stderr);

  const run = await runWeir(['run', '-c', configPath, '--until-idle', '--workers', '2']);
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, /^records: 200$/m);
  t.match(run.stdout, /^records\/s: \d+$/m);
  t.match(run.stdout, /^worker 0: \d+ records/m);
  t.match(run.stdout, /^worker 1: \d+ records/m);

  const model = new Map<string, { sum: number; count: number; max: number }>();
  for (const line of input.trim().split('\n')) {
    const { key, value } = JSON.parse(line) as { key: string; value: { amount: number } };
    const m = model.get(key) ?? { sum: 0, count: 0, max: Number.NEGATIVE_INFINITY };
    model.set(key, { sum: m.sum + value.amount, count: m.count + 1, max: Math.max(m.max, value.amount) });
  }
  const totals = await runWeir(['state', 'dump', '-c', configPath, '--store', 'totals']);
  t.equal(totals.code, 0, totals.stderr);
  const entries = totals.stdout.trim().split('\n').map((l) => JSON.parse(l) as { store: string; key: string; stateKey: string; value: number });
  t.ok(entries.every((e) => e.store === 'totals'));
  for (const [key, m] of model) {
    const sum = entries.find((e) => e.key === key && e.stateKey === 'sum')?.value;
    const count = entries.find((e) => e.key === key && e.stateKey === 'count')?.value;
    t.ok(sum !== undefined && Math.abs(sum - m.sum) < 1e-6, `sum of ${key}`);
    t.equal(count, m.count, `count of ${key}`);
  }
  const maxima = await runWeir(['state', 'dump', '-c', configPath, '--store', 'maxima']);
  const maxEntries = maxima.stdout.trim().split('\n').map((l) => JSON.parse(l) as { key: string; value: number });
  t.same(new Map(maxEntries.map((e) => [e.key, e.value])), new Map([...model].map(([k, m]) => [k, m.max])));

  const unknown = await runWeir(['state', 'dump', '-c', configPath, '--store', 'nope']);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /weir: Store "nope" is not registered/);
});

t.test('SIGTERM stops a running job gracefully with a final checkpoint', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { commitInterval: 9999 });
  const events = generateEvents(30_000, 500, 12);
  await appendEvents(fixture, events);
  const child = spawn(process.execPath, [WEIR_MAIN, 'run', '-c', fixture.configPath, '--workers', '2'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...TEXT_LOGS_ENV } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  // Without --until-idle the job waits for more input forever: stop it once it is ready
  // (its server says so), whatever the machine's load, instead of after a fixed time.
  for (;;) {
    const url = /weir: serving on (\S+)/.exec(stderr)?.[1];
    if (url !== undefined && (await fetch(`${url}/readyz`).then((r) => r.status, () => 0)) === 200) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  t.equal(code, 0, stderr);
  t.match(stdout, /^records: \d+$/m, 'the summary is printed');
  const processed = Number(/^records: (\d+)$/m.exec(stdout)?.[1]);

  // The final checkpoint committed what was processed: a rerun processes only the rest.
  const config = { ...(await fixture.config()), workers: 2 };
  const { runJob } = await import('../../runtime/job-runner.js');
  const rerun = await runJob(config, { untilIdle: true });
  t.equal(processed + rerun.records, events.length, 'nothing processed twice, nothing lost');
  t.same(await stateCounts(config), modelCounts(events));
});

t.test('SIGTERM at any moment from start-up on exits 0 with a summary; together the runs process every record once', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { commitInterval: 9999 });
  const events = generateEvents(20_000, 300, 21);
  await appendEvents(fixture, events);
  let processed = 0;
  // Moments: right after the handler exists (start-up: modules still loading, the log not
  // yet open), then later ones (recovery, processing).
  for (const delayMs of [0, 150, 700, 1_500]) {
    const child = spawn(process.execPath, [WEIR_MAIN, 'run', '-c', fixture.configPath, '--workers', '2'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...TEXT_LOGS_ENV, WEIR_DEBUG: '1' },
    });
    let stdout = '';
    let stderr = '';
    let ready: () => void = () => undefined;
    const handlerInstalled = new Promise<void>((resolve) => (ready = resolve));
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (stderr.includes('stop signal handler installed')) ready();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await handlerInstalled;
    await new Promise((r) => setTimeout(r, delayMs));
    child.kill('SIGTERM');
    t.equal(await exited, 0, `stopped ${delayMs} ms after start-up: exit 0 (${stderr.trim().split('\n').pop()})`);
    const records = /^records: (\d+)$/m.exec(stdout)?.[1];
    t.ok(records !== undefined, 'the summary is printed');
    processed += Number(records);
  }
  const config = { ...(await fixture.config()), workers: 2 };
  const { runJob } = await import('../../runtime/job-runner.js');
  const rest = await runJob(config, { untilIdle: true });
  t.equal(processed + rest.records, events.length, 'nothing processed twice, nothing lost');
  t.same(await stateCounts(config), modelCounts(events));
});

t.test('weir run with a missing config names the path', async (t) => {
  const result = await runWeir(['run', '-c', '/nonexistent/weir.yaml']);
  t.equal(result.code, 1);
  t.match(result.stderr, /\/nonexistent\/weir\.yaml/);
});
