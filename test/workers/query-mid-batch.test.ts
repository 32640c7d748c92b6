/**
 * A query that arrives while a worker processes a long batch is answered before the batch
 * ends (workers/event-loop-slices.ts with the coordinator's control-call count), not after
 * every queued batch; a worker nobody asks does not stop. The query here arrives on a
 * message port, as on the worker's control port, sent from inside the pipeline while it
 * processes the batch's tenth record (each record takes ~0.3 ms).
 */
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { JobWorker } from '../../workers/job-worker.js';
import { encodeBatchSet } from '../../shared/protocol/record-batch.js';
import { ControlCallCounter } from '../../shared/protocol/control-calls.js';
import type { DataMessage, QueriedEntry, StateQuery } from '../../shared/protocol/worker-protocol.js';
import { testWorkerInit } from './fixtures/worker-init.js';

const encoder = new TextEncoder();

const SLOW_PIPELINE = `
export default {
  stores: { counts: { preload: ['count'] } },
  process(record, context) {
    const state = context.state('counts');
    state.set('count', state.get('count', 0) + 1);
    globalThis.__midBatchRecords = (globalThis.__midBatchRecords ?? 0) + 1;
    if (globalThis.__midBatchRecords === 10) globalThis.__midBatchQuery();
    const until = performance.now() + 0.3;
    while (performance.now() < until) {}
  },
};
`;

declare global {
  // eslint-disable-next-line no-var
  var __midBatchQuery: () => void;
}

t.test('a query sent mid-batch is answered before the batch is processed', async (t) => {
  const dir = t.testdir();
  const pipelinePath = join(dir, 'pipeline.mjs');
  await writeFile(pipelinePath, SLOW_PIPELINE);
  const init = testWorkerInit(dir, pipelinePath);
  const events: string[] = [];
  let processed!: () => void;
  const done = new Promise<void>((resolve) => (processed = resolve));
  const counter = new ControlCallCounter();
  const worker = await JobWorker.start(
    init,
    (message: DataMessage) => {
      if (message.type !== 'processed') return;
      events.push('batch processed');
      processed();
    },
    counter.buffer,
  );
  t.teardown(() => worker.close());
  await worker.assign(0);

  // The control port: the worker answers queries arriving on it, as comlink does.
  const { port1, port2 } = new MessageChannel();
  t.teardown(() => {
    port1.close();
    port2.close();
  });
  port2.on('message', (query: StateQuery) => void worker.query(query).then((entries) => port2.postMessage(entries)));
  let answer!: (entries: QueriedEntry[] | undefined) => void;
  const answered = new Promise<QueriedEntry[] | undefined>((resolve) => (answer = resolve));
  port1.on('message', (entries: QueriedEntry[] | undefined) => {
    events.push('query answered');
    answer(entries);
  });
  globalThis.__midBatchQuery = () => {
    void counter.track(() => {
      port1.postMessage({ store: 'counts', partition: 0, key: encoder.encode('"k"') } satisfies StateQuery);
      return answered;
    });
  };

  const records = Array.from({ length: 1000 }, (_, n) => ({
    offset: n,
    timestamp: 1_700_000_000_000 + n,
    key: encoder.encode('"k"'),
    value: encoder.encode(JSON.stringify({ n })),
    headers: [],
  }));
  worker.receive({ type: 'records', sets: [{ topic: 'events', partition: 0, count: records.length, buffer: encodeBatchSet(records) }] });
  await done;
  await answered;
  t.same(events, ['query answered', 'batch processed'], 'answered while the batch was still being processed');
  t.same(await answered, [], 'the committed state: nothing checkpointed yet');
});
