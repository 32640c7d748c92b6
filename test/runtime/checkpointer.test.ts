/**
 * The checkpointer's turns (docs/semantics.md §8.1), with workers and a group that answer
 * when the test says so: a checkpoint never prepares while the previous one waits for its
 * commit, whoever else is waiting for that commit, and an abandon never overtakes a
 * checkpoint under way. Either would leave a worker with prepared transactions that the
 * next prepare finds unflushed (a Kafka member failed that way under load, when a
 * rebalance's checkpoint came while the loop waited for a pipelined commit).
 */
import t from 'tap';
import { Checkpointer } from '../../runtime/checkpointer.js';
import type { OutputStream } from '../../runtime/output-stream.js';
import type { WorkerHandle } from '../../runtime/worker-pool.js';
import type { GroupConsumer, LogProducer, PartitionOffset } from '../../shared/log/log-backend.js';
import type { PreparedWork } from '../../shared/protocol/worker-protocol.js';

/** A promise and the function that settles it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * One worker owning partition 0, keeping the rule a real one enforces: a prepare while the
 * previous prepare is neither flushed nor aborted fails. `events` records the calls in order.
 */
class ScriptedWorker {
  private prepared = false;
  private offset = 0;
  readonly events: string[] = [];
  /** When set, the next prepare is answered only once it resolves. */
  holdPrepare: Promise<void> | undefined;

  readonly control = {
    flush: async (): Promise<void> => {
      this.events.push('flush');
      this.prepared = false;
    },
    abort: async (): Promise<void> => {
      this.events.push('abort');
      this.prepared = false;
    },
  };

  async prepare(): Promise<PreparedWork> {
    this.events.push('prepare');
    if (this.prepared) throw new Error('prepare before the previous checkpoint was flushed');
    this.prepared = true;
    const hold = this.holdPrepare;
    this.holdPrepare = undefined;
    if (hold !== undefined) await hold;
    this.events.push('prepared');
    this.offset += 10;
    return { partitions: [{ partition: 0, processed: { input: this.offset }, changelog: [], changelogRecords: 0 }], outputs: [], outputRecords: 0 };
  }
}

/** A group whose commits wait while `holdCommit` is set. */
class ScriptedGroup {
  readonly commits: PartitionOffset[][] = [];
  holdCommit: Promise<void> | undefined;

  constructor(private readonly events: string[]) {}

  async commit(offsets: readonly PartitionOffset[]): Promise<void> {
    this.events.push('commit');
    const hold = this.holdCommit;
    this.holdCommit = undefined;
    if (hold !== undefined) await hold;
    this.commits.push([...offsets]);
    this.events.push('committed');
  }
}

/** An at-least-once checkpointer over one scripted worker and group; pipelined failures go to `failures`. */
function scripted(): { worker: ScriptedWorker; group: ScriptedGroup; failures: Error[]; checkpointer: Checkpointer } {
  const worker = new ScriptedWorker();
  const group = new ScriptedGroup(worker.events);
  const failures: Error[] = [];
  const producer = { appendBatches: async () => [] } as unknown as LogProducer;
  const outputs = { flushed: async () => undefined } as unknown as OutputStream;
  const checkpointer = new Checkpointer([worker as unknown as WorkerHandle], producer, group as unknown as GroupConsumer, {
    group: 'app',
    exactlyOnce: false,
    outputs,
    onFailure: (error) => failures.push(error),
  });
  return { worker, group, failures, checkpointer };
}

/** Lets every queued callback run (the fakes answer in microtasks). */
async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

t.test('a checkpoint waits for the pipelined commit the loop is also waiting for', async (t) => {
  const { worker, group, failures, checkpointer } = scripted();

  const commitAnswered = deferred();
  group.holdCommit = commitAnswered.promise;
  await checkpointer.begin();
  // The loop waits for the pipelined commit before its next checkpoint...
  const loopSettled = checkpointer.settle();
  // ...and a rebalance's full checkpoint comes meanwhile.
  const revokeCheckpoint = checkpointer.checkpointNow();
  await turns();
  t.same(worker.events, ['prepare', 'prepared', 'commit'], 'nothing prepared while the commit is unanswered');

  commitAnswered.resolve();
  await Promise.all([loopSettled, revokeCheckpoint]);
  t.same(worker.events, ['prepare', 'prepared', 'commit', 'committed', 'flush', 'prepare', 'prepared', 'commit', 'committed', 'flush']);
  t.same(group.commits, [[{ topic: 'input', partition: 0, offset: 11 }], [{ topic: 'input', partition: 0, offset: 21 }]], 'both checkpoints committed, in order');
  t.same(failures, []);
});

t.test('an abandon waits for the checkpoint under way: its prepare, then its commit', async (t) => {
  const { worker, failures, checkpointer } = scripted();

  const prepareAnswered = deferred();
  worker.holdPrepare = prepareAnswered.promise;
  const beginning = checkpointer.begin();
  await turns();
  const abandoned = checkpointer.abandon();
  await turns();
  t.same(worker.events, ['prepare'], 'no abort while the prepare is unanswered');

  prepareAnswered.resolve();
  await Promise.all([beginning, abandoned]);
  t.same(worker.events, ['prepare', 'prepared', 'commit', 'committed', 'flush', 'abort'], 'the checkpoint finished, then the rest was dropped');

  // The next checkpoint starts clean.
  await checkpointer.checkpointNow();
  t.same(worker.events.slice(-5), ['prepare', 'prepared', 'commit', 'committed', 'flush']);
  t.same(failures, []);
});
