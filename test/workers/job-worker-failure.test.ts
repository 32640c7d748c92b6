/**
 * A worker whose record failed under the `stop` policy never checkpoints: the failed record
 * may have written part of its state before throwing (here: the count of the third record),
 * and a checkpoint already on its way (the end of input, the interval) must not flush it.
 */
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JobWorker } from '../../workers/job-worker.js';
import { encodeBatchSet } from '../../shared/protocol/record-batch.js';
import type { DataMessage } from '../../shared/protocol/worker-protocol.js';
import { testWorkerInit } from './fixtures/worker-init.js';
import { FAILING_PIPELINE } from '../runtime/job-fixture.js';

const encoder = new TextEncoder();

t.test('after a failed record (stop policy) a prepare is refused with CHECKPOINT_AFTER_FAILURE', async (t) => {
  const dir = t.testdir();
  const pipelinePath = join(dir, 'pipeline.mjs');
  await writeFile(pipelinePath, FAILING_PIPELINE);
  const init = testWorkerInit(dir, pipelinePath, {
    changelogTopics: { counts: 'changelog__app--events--counts' },
    changelogEnabled: true,
    outputTopics: ['counts'],
    topicPartitions: { counts: 1 },
  });
  const messages: DataMessage[] = [];
  let notify: () => void = () => undefined;
  const worker = await JobWorker.start(init, (message) => {
    messages.push(message);
    notify();
  });
  t.teardown(() => worker.close());
  await worker.assign(0);

  const records = [0, 1, 2, 3].map((n) => ({
    offset: n,
    timestamp: 1_700_000_000_000 + n,
    key: encoder.encode('"key"'),
    value: encoder.encode(JSON.stringify({ n })),
    headers: [],
  }));
  worker.receive({ type: 'records', sets: [{ topic: 'events', partition: 0, count: records.length, buffer: encodeBatchSet(records) }] });
  worker.receive({ type: 'prepare', id: 1 });
  while (!messages.some((m) => m.type === 'prepared' || m.type === 'prepare-failed')) {
    await new Promise<void>((resolve) => (notify = resolve));
  }

  const failed = messages.find((m) => m.type === 'failed');
  t.match(failed, { type: 'failed', topic: 'events', partition: 0, offset: 2, message: 'boom on the third record' });
  const answer = messages.find((m) => m.type === 'prepared' || m.type === 'prepare-failed');
  t.match(answer, { type: 'prepare-failed', id: 1, message: /refused a checkpoint/ }, 'nothing of the open transaction is prepared');
  t.ok(messages.indexOf(failed!) < messages.indexOf(answer!), 'the failure is reported first, so it is the error the run ends with');
});
