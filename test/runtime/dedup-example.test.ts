/** The dedup example job (examples/dedup) through the CLI, as its weir.yaml tells a user to run it. */
import t from 'tap';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LogRecord } from '../../shared/log/log-backend.js';
import { runWeir } from '../cli/fixtures/run-weir.js';
import { dedupModel } from './fixtures/dedup-job.js';
import { localExampleConfig } from './job-fixture.js';

t.setTimeout(300_000);
// dist/test/runtime → the example's source folder (the pipeline is TypeScript, loaded through tsx).
const exampleDir = fileURLToPath(new URL('../../../examples/dedup/', import.meta.url));
const DEDUP_WINDOW_MS = 10 * 60 * 1000;

interface DumpedRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: string;
  readonly value: unknown;
  readonly timestamp: number;
}

function asLogRecord(r: DumpedRecord): LogRecord {
  return {
    topic: 'payments',
    partition: r.partition,
    offset: r.offset,
    key: Buffer.from(JSON.stringify(r.key)),
    value: Buffer.from(JSON.stringify(r.value)),
    headers: [],
    timestamp: r.timestamp,
  };
}

t.test('repeats within 10 minutes are dropped; state holds only the ids still remembered', async (t) => {
  const config = await localExampleConfig(exampleDir, t.testdir());
  const produced = await runWeir(['produce', '-c', config, '--topic', 'payments'], { inputFile: join(exampleDir, 'payments.jsonl') });
  t.equal(produced.code, 0, produced.stderr);
  const run = await runWeir(['run', '-c', config, '--until-idle']);
  t.equal(run.code, 0, run.stderr);

  const dump = async (topic: string) =>
    (await runWeir(['topic', 'dump', '-c', config, '--topic', topic])).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as DumpedRecord);
  const model = dedupModel((await dump('payments')).map(asLogRecord), DEDUP_WINDOW_MS, (v) => v);
  const unique = (await dump('unique-payments')).map((r) => `${r.key}:${JSON.stringify(r.value)}`).sort();
  t.ok(model.emitted.length > 20 && model.emitted.length < 60, `${model.emitted.length} of 60 payments are first sightings`);
  t.same(unique, model.emitted);

  const state = (await runWeir(['state', 'dump', '-c', config, '--store', 'seen'])).stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { partition: number; key: string; expiresAt: number })
    .map((e) => `${e.partition}:${e.key}:${e.expiresAt}`)
    .sort();
  t.same(state, model.live, 'weir state dump shows the remembered ids with their expiry');
});
