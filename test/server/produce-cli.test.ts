/**
 * `weir produce` while `weir run` runs on the same local log: the records go through the
 * job's server (the job holds the log's lock), with the same output and the same errors
 * as a direct produce, and the job's final state is exact.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runWeir, TEXT_LOGS_ENV, WEIR_MAIN } from '../cli/fixtures/run-weir.js';
import { appendEvents, createJobFixture, stateCounts } from '../runtime/job-fixture.js';
import { waitFor } from './served-job.js';

t.test('weir produce through a running weir run: same output, exact final state', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { commitInterval: 0.5 });
  await appendEvents(fixture, []);
  const child = spawn(process.execPath, [WEIR_MAIN, 'run', '-c', fixture.configPath, '--workers', '2'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...TEXT_LOGS_ENV } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const addressFile = join(fixture.logPath, 'weir-server.json');
  await waitFor(() => access(addressFile).then(() => true, () => false), 'the address file');
  const { url } = JSON.parse(await readFile(addressFile, 'utf8')) as { url: string };
  // The address file can be read before the child's stderr line has reached this process.
  await waitFor(() => stderr.includes(`weir: serving on ${url}`), 'the serving line on stderr');
  t.match(stderr, `weir: serving on ${url}`);

  const model = new Map<string, number>();
  const inputs: string[] = [];
  for (let round = 0; round < 3; round++) {
    const lines: string[] = [];
    for (let i = 0; i < 12_000; i++) {
      const key = `k${(i * 7 + round) % 97}`;
      model.set(key, (model.get(key) ?? 0) + 1);
      lines.push(JSON.stringify({ key, value: { n: i } }));
    }
    inputs.push(`${lines.join('\n')}\n`);
  }
  // Rounds run one after another and two at once: requests interleave in the job.
  const first = await runWeir(['produce', '-c', fixture.configPath, '--topic', 'events'], { input: inputs[0]! });
  t.equal(first.code, 0, first.stderr);
  t.equal(first.stdout, 'produced 12000 records to events\n');
  t.equal(first.stderr, '', 'quiet when stderr is not a TTY');
  const [second, third] = await Promise.all(
    inputs.slice(1).map((input) => runWeir(['produce', '-c', fixture.configPath, '--topic', 'events'], { input })),
  );
  t.equal(second!.stdout, 'produced 12000 records to events\n', second!.stderr);
  t.equal(third!.stdout, 'produced 12000 records to events\n', third!.stderr);

  // The same refusals as a direct produce, and nothing appended.
  const badLine = await runWeir(['produce', '-c', fixture.configPath, '--topic', 'events'], { input: '{"key":"x","value":1}\n{"key":"x"}\n' });
  t.equal(badLine.code, 1);
  t.equal(badLine.stderr, 'weir: input line 2: value: required (write null for a null value); nothing was appended\n');
  const mismatch = await runWeir(['produce', '-c', fixture.configPath, '--topic', 'events', '--partitions', '3'], { input: '{"key":"x","value":1}\n' });
  t.equal(mismatch.code, 1);
  t.equal(mismatch.stderr, 'weir: topic "events" already exists with 4 partition(s); cannot create it with 3\n');
  const other = await runWeir(['produce', '-c', fixture.configPath, '--topic', 'side', '--partitions', '2'], { input: '' });
  t.equal(other.stdout, 'produced 0 records to side\n', 'an empty input creates the topic, as directly');

  await waitFor(async () => {
    const metrics = await fetch(`${url}/readyz`);
    return metrics.status === 200;
  }, 'readiness');
  child.kill('SIGTERM');
  t.equal(await exited, 0, stderr);
  t.match(stdout, /^records: 36000$/m, 'every produced record processed once');
  t.same(await stateCounts(await fixture.config()), model);
  await t.rejects(access(addressFile), 'address file removed');

  // With no job running, produce opens the log itself again.
  const direct = await runWeir(['produce', '-c', fixture.configPath, '--topic', 'events'], { input: '{"key":"x","value":1}\n' });
  t.equal(direct.stdout, 'produced 1 records to events\n', direct.stderr);
});
