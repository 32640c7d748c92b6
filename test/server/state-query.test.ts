/**
 * Interactive queries of a running job on the local log: `GET /stores/:store/keys/:key`
 * answers what `weir state dump` shows (the committed state), `weir state get` asks the
 * running job and, once it stopped, reads the stores with the same result.
 */
import t from 'tap';
import { appendEvents, createJobFixture, generateEvents, modelCounts } from '../runtime/job-fixture.js';
import { dumpState, type StateEntry } from '../../runtime/state-inspection.js';
import { runWeir } from '../cli/fixtures/run-weir.js';
import { startServedJob, waitFor } from './served-job.js';

interface QueryReply {
  readonly store: string;
  readonly partition: number;
  readonly entries: ReadonlyArray<{ key: unknown; stateKey: unknown; value: unknown }>;
}

t.test('queries equal weir state dump; weir state get through the job and directly', async (t) => {
  const fixture = await createJobFixture(t.testdir(), { commitInterval: 0.2 });
  const events = generateEvents(3_000, 40, 9);
  await appendEvents(fixture, events);
  const config = { ...(await fixture.config()), workers: 2 };
  const model = modelCounts(events);
  const job = await startServedJob(config);
  const ask = async (key: string, stateKey?: string): Promise<Response> =>
    fetch(`${job.url}/stores/counts/keys/${encodeURIComponent(key)}${stateKey === undefined ? '' : `/${encodeURIComponent(stateKey)}`}`);

  // Committed state: the counts appear once a checkpoint has flushed them.
  await waitFor(async () => {
    for (const [key, count] of model) {
      const response = await ask(JSON.stringify(key));
      if (response.status !== 200) return false;
      const reply = (await response.json()) as QueryReply;
      if (reply.entries.find((e) => e.stateKey === 'count')?.value !== count) return false;
    }
    return true;
  }, 'every count committed');
  const answers = new Map<string, QueryReply>();
  for (const key of model.keys()) answers.set(key, (await (await ask(JSON.stringify(key))).json()) as QueryReply);

  const one = await ask('"k1"', 'count');
  t.equal(one.status, 200);
  t.same(((await one.json()) as QueryReply).entries, [{ key: 'k1', stateKey: 'count', value: model.get('k1') }]);
  const bare = await ask('k1', 'count');
  t.same(((await bare.json()) as QueryReply).entries.map((e) => e.value), [model.get('k1')], 'a key that is not JSON is tried as a JSON string too');
  const missing = await ask('"k1"', 'nope');
  t.equal(missing.status, 404);
  t.match(await missing.json(), { error: 'NOT_FOUND' });
  const none = await ask('"no-such-key"');
  t.equal(none.status, 200);
  t.same(((await none.json()) as QueryReply).entries, [], 'a key without state has no entries');
  const unknownStore = await fetch(`${job.url}/stores/nope/keys/%22k1%22`);
  t.equal(unknownStore.status, 404);
  t.match(await unknownStore.json(), { error: 'QUERY_UNKNOWN_STORE', message: /store "nope" is not a store of this job \(stores: counts\)/ });
  const notWindows = await fetch(`${job.url}/stores/counts/keys/%22k1%22/windows`);
  t.equal(notWindows.status, 400);
  t.match(await notWindows.json(), { error: 'QUERY_NOT_A_WINDOW_STORE', store: 'counts' });
  const badRange = await fetch(`${job.url}/stores/counts/keys/%22k1%22?from=soon`);
  t.equal(badRange.status, 400);
  t.match(await badRange.json(), { error: 'QUERY_BAD_ARGUMENT', parameter: 'from' });

  const viaJob = await runWeir(['state', 'get', '-c', fixture.configPath, '--store', 'counts', '--key', '"k2"']);
  t.equal(viaJob.code, 0, viaJob.stderr);
  const expectedK2 = answers.get('k2')!;
  t.same(
    viaJob.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown),
    expectedK2.entries.map((e) => ({ store: 'counts', partition: expectedK2.partition, ...e })),
    'weir state get asks the running job',
  );

  await job.stop();
  const dump: StateEntry[] = [];
  for await (const entry of dumpState(config, 'counts')) dump.push(entry);
  for (const [key, reply] of answers) {
    const dumped = dump.filter((e) => e.key === key).map((e) => ({ key: e.key, stateKey: e.stateKey, value: e.value }));
    t.same(reply.entries, dumped, `query of ${key} equals the dump`);
    t.ok(dump.filter((e) => e.key === key).every((e) => e.partition === reply.partition), `partition of ${key}`);
  }
  const direct = await runWeir(['state', 'get', '-c', fixture.configPath, '--store', 'counts', '--key', '"k2"']);
  t.equal(direct.stdout, viaJob.stdout, 'without a running job, weir state get reads the stores: same answer');
});
