/**
 * Window-store queries of a running job on the local log:
 * `GET /stores/:store/keys/:key/windows?from=&to=` answers each committed window of the
 * key overlapping `[from, to)` with its current result, the windows `weir state dump`
 * shows once the job has stopped.
 */
import t from 'tap';
import { dumpState } from '../../runtime/state-inspection.js';
import { appendReadings, createWindowJob, definitionModule, windowsModule } from '../windows/fixtures/window-job.js';
import { startServedJob, waitFor } from './served-job.js';

const STORE = 'totals_tumbling_window_1000';
// A long grace keeps every window open (and so in the store) for the queries.
const PIPELINE = `
import { definePipeline } from ${JSON.stringify(definitionModule)};
import { tumblingWindow, count, sum } from ${JSON.stringify(windowsModule)};
export default definePipeline({
  windows: {
    totals: tumblingWindow({ durationMs: 1000, graceMs: 1000000, aggregate: { n: count(), total: sum((r) => r.celsius) }, to: 'averages' }),
  },
});
`;

interface WindowReply {
  readonly store: string;
  readonly partition: number;
  readonly windows: ReadonlyArray<{ start: number; end: number; value: unknown }>;
}

t.test('window stores answer by key and time range from the committed state', async (t) => {
  const job = await createWindowJob(t.testdir(), { pipeline: PIPELINE, commitInterval: 0.2 });
  const config = { ...(await job.config()), workers: 2 };
  await appendReadings(job, [
    { key: 'a', value: 1, timestamp: 100 },
    { key: 'a', value: 2, timestamp: 500 },
    { key: 'a', value: 4, timestamp: 1200 },
    { key: 'b', value: 8, timestamp: 50 },
    { key: 'a', value: 16, timestamp: 2500 },
  ]);
  const served = await startServedJob(config);
  const ask = async (key: string, range = ''): Promise<Response> => fetch(`${served.url}/stores/${STORE}/keys/${encodeURIComponent(key)}/windows${range}`);
  const windowsOf = async (key: string, range = ''): Promise<WindowReply> => {
    const response = await ask(key, range);
    if (response.status !== 200) throw new Error(`${key}${range}: ${response.status} ${await response.text()}`);
    return (await response.json()) as WindowReply;
  };

  const settled = async (key: string, windows: number): Promise<boolean> => (await ask(key)).status === 200 && (await windowsOf(key)).windows.length === windows;
  await waitFor(async () => (await settled('"a"', 3)) && (await settled('"b"', 1)), 'every window committed');
  const all = await windowsOf('"a"');
  t.equal(all.store, STORE);
  t.same(
    all.windows,
    [
      { start: 0, end: 1000, value: { n: 2, total: 3 } },
      { start: 1000, end: 2000, value: { n: 1, total: 4 } },
      { start: 2000, end: 3000, value: { n: 1, total: 16 } },
    ],
    'every window of the key in start order, with its current result',
  );
  t.same((await windowsOf('"a"', '?from=1000&to=2000')).windows.map((w) => w.start), [1000], '[from, to) keeps the windows overlapping it');
  t.same((await windowsOf('"a"', '?from=1500')).windows.map((w) => w.start), [1000, 2000], 'from alone');
  t.same((await windowsOf('"a"', '?to=1000')).windows.map((w) => w.start), [0], 'to alone (end exclusive)');
  t.same((await windowsOf('b')).windows, [{ start: 0, end: 1000, value: { n: 1, total: 8 } }], 'a plain-text key is tried as a JSON string');
  t.same((await windowsOf('"nobody"')).windows, [], 'a key without windows');

  const backwards = await ask('"a"', '?from=2000&to=1000');
  t.equal(backwards.status, 400);
  t.match(await backwards.json(), { error: 'QUERY_BAD_ARGUMENT', parameter: 'to' });
  const unknown = await fetch(`${served.url}/stores/nope/keys/%22a%22/windows`);
  t.equal(unknown.status, 404);
  t.match(await unknown.json(), { error: 'QUERY_UNKNOWN_STORE' });

  await served.stop();
  const dumped: string[] = [];
  for await (const entry of dumpState(config, STORE)) {
    if (entry.key === 'a') dumped.push(JSON.stringify(entry.stateKey));
  }
  t.same(dumped, all.windows.map((w) => JSON.stringify({ start: w.start, end: w.end })), 'the windows the dump shows');
});
