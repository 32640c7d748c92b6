/**
 * A checkpoint whose changelog records were appended but whose offset
 * commit failed must leave no trace in state — neither locally nor after a rebuild from
 * the changelog, where the skip rule (docs/semantics.md §5.4) drops the over-produced records.
 */
import t from 'tap';
import { App } from '../../runtime/app.js';
import { clearState } from '../../runtime/state-inspection.js';
import { LocalLogBackend } from '../../shared/log/local/local-log-backend.js';
import type { LogBackend } from '../../shared/log/log-backend.js';
import { dumpState } from '../../runtime/state-inspection.js';
import type { WeirConfig } from '../../config/index.js';
import { appendEvents, createJobFixture, replaceMethods } from './job-fixture.js';

const LATEST_PIPELINE = `
export default {
  stores: { latest: {} },
  process(record, context) {
    context.state('latest').set('latest', record.value);
  },
};
`;

/** The backend, except that group commits fail. */
function failingCommits(backend: LogBackend): LogBackend {
  return replaceMethods(backend, {
    consumer: async (group, options) =>
      replaceMethods(await backend.consumer(group, options), {
        commit: async () => Promise.reject(new Error('commit failed (injected)')),
      }),
  });
}

async function latest(config: WeirConfig): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for await (const e of dumpState(config, 'latest')) out[e.key as string] = e.value;
  return out;
}

const encoder = new TextEncoder();
const record = (key: string, value: string) => ({
  topic: 'events',
  key: encoder.encode(JSON.stringify(key)),
  value: encoder.encode(JSON.stringify(value)),
});

t.test('144. state stays consistent after a checkpoint whose offset commit failed', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { partitions: 1, pipeline: LATEST_PIPELINE });
  await appendEvents(fixture, [record('key1', '1'), record('key2', '2'), record('key3', '3')], 1);
  const config = { ...(await fixture.config()), workers: 1 };

  const run = async (backendOf: (b: LogBackend) => LogBackend): Promise<unknown> => {
    const backend = await LocalLogBackend.open(fixture.logPath);
    try {
      const app = await App.create(config, backendOf(backend));
      await app.run({ untilIdle: true });
      return undefined;
    } catch (error) {
      return error;
    } finally {
      await backend.close();
    }
  };

  t.equal(await run((b) => b), undefined, 'run 1 succeeds');
  const expected = { key1: '1', key2: '2', key3: '3' };
  t.same(await latest(config), expected);

  await appendEvents(fixture, [record('key1', '4'), record('key2', '5'), record('key3', '6')], 1);
  const failure = (await run(failingCommits)) as Error;
  t.match(failure?.message, /commit failed \(injected\)/, 'run 2 fails at the offset commit');
  t.same(await latest(config), expected, 'run 2 left local state alone');

  // Run 3 rebuilds from the changelog, which holds run 2's over-produced records: the
  // skip rule must drop them. Its own checkpoint fails like run 2's.
  await clearState(config);
  t.match(((await run(failingCommits)) as Error)?.message, /commit failed/, 'run 3 fails at the commit too');
  t.same(await latest(config), expected, 'recovered state ignores the uncommitted checkpoints');

  // With commits working again the records are processed for real.
  t.equal(await run((b) => b), undefined, 'run 4 succeeds');
  t.same(await latest(config), { key1: '4', key2: '5', key3: '6' });
});
