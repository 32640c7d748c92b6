/**
 * docs/semantics.md §8.4 on the local log, whose group never refuses a commit by itself: the
 * consumer here refuses one, as a rebalancing Kafka group does. The refused commit is the
 * last pipelined one of an `--until-idle` run, answered only once the loop has read the
 * input to its end: the run must not take the input as done with, but read the refused
 * checkpoint's records again and commit them.
 */
import t from 'tap';
import { App, type RunSummary } from '../../runtime/app.js';
import { runJob } from '../../runtime/job-runner.js';
import { clearState } from '../../runtime/state-inspection.js';
import { LocalLogBackend } from '../../shared/log/local/local-log-backend.js';
import { CommitRejectedError } from '../../shared/errors/log-errors.js';
import type { AppendRecord, LogBackend } from '../../shared/log/log-backend.js';
import type { WeirConfig } from '../../config/index.js';
import { appendEvents, createJobFixture, generateEvents, modelCounts, replaceMethods, stateCounts } from './job-fixture.js';

/**
 * The backend, except that the group's first commit is answered only once the input has
 * been read to its end (all `records` delivered, then a poll that found nothing), and then
 * refused.
 */
function firstCommitRefusedAtTheEnd(
  backend: LogBackend,
  records: number,
  refusals: { count: number },
  onEndOfInput?: () => void,
): LogBackend {
  return replaceMethods(backend, {
    consumer: async (group, options) => {
      const consumer = await backend.consumer(group, options);
      let delivered = 0;
      let inputRead: () => void = () => undefined;
      const endOfInput = new Promise<void>((resolve) => (inputRead = resolve));
      return replaceMethods(consumer, {
        pollBatches: async (max, timeoutMs) => {
          const sets = await consumer.pollBatches(max, timeoutMs);
          for (const set of sets) delivered += set.count;
          if (sets.length === 0 && delivered >= records) {
            inputRead();
            onEndOfInput?.();
          }
          return sets;
        },
        commit: async (offsets) => {
          if (refusals.count > 0) return consumer.commit(offsets);
          await endOfInput;
          // Answered after the loop has seen the empty poll and gone on to ask whether it is idle.
          await new Promise((resolve) => setImmediate(resolve));
          refusals.count++;
          throw new CommitRejectedError(group, 'REBALANCE_IN_PROGRESS');
        },
      });
    },
  });
}

interface RefusedRun {
  readonly config: WeirConfig;
  readonly events: readonly AppendRecord[];
  readonly summary: RunSummary;
  readonly refusals: number;
  readonly log: string;
}

/**
 * A count job over 3,000 events whose first commit is refused at the end of input. A commit
 * interval far longer than the run: the only pipelined checkpoint is the one `commitEvery`
 * starts once every record has been routed. `stopAtEnd`: the run is stopped (signal) as
 * the input has been read, instead of running until idle.
 */
async function runWithRefusedCommit(dir: string, seed: number, stopAtEnd: boolean): Promise<RefusedRun> {
  const events = generateEvents(3_000, 200, seed);
  const fixture = await createJobFixture(dir, { partitions: 2, commitInterval: 600, commitEvery: events.length });
  await appendEvents(fixture, events, 2);
  const config = await fixture.config();
  const backend = await LocalLogBackend.open(fixture.logPath);
  const refusals = { count: 0 };
  const lines: string[] = [];
  const stop = new AbortController();
  try {
    const app = await App.create(config, firstCommitRefusedAtTheEnd(backend, events.length, refusals, stopAtEnd ? () => stop.abort() : undefined));
    const summary = await app.run({ ...(stopAtEnd ? { signal: stop.signal } : { untilIdle: true }), log: (line) => lines.push(line) });
    return { config, events, summary, refusals: refusals.count, log: lines.join('\n') };
  } finally {
    await backend.close();
  }
}

t.test('the last pipelined commit of an --until-idle run is refused: its records are read again and committed', async (t) => {
  const { config, events, summary, refusals, log } = await runWithRefusedCommit(t.testdir(), 7, false);
  t.equal(refusals, 1, 'the commit was refused');
  t.match(log, /rejected an offset commit \(REBALANCE_IN_PROGRESS\)/, 'the refusal is reported');
  t.equal(summary.records, 2 * events.length, 'every record was processed again after the refusal');
  t.same(await stateCounts(config), modelCounts(events), 'every record counted once', { log });

  const rerun = await runJob(config, { untilIdle: true });
  t.equal(rerun.records, 0, 'every offset was committed');
  await clearState(config);
  await runJob(config, { untilIdle: true });
  t.same(await stateCounts(config), modelCounts(events), 'the changelog rebuilds the same counts (the refused checkpoint skipped)');
});

t.test('a run stopped while its last pipelined commit is refused ends cleanly; the next run reads those records again', async (t) => {
  const { config, events, summary, refusals, log } = await runWithRefusedCommit(t.testdir(), 8, true);
  t.equal(refusals, 1, 'the commit was refused');
  t.equal(summary.records, events.length, 'the records were processed once and not taken up again');
  t.match(log, /rejected an offset commit \(REBALANCE_IN_PROGRESS\).*the run ends without committing its last records/, 'the refusal is reported once, at the end');
  t.notMatch(log, /taking the partitions up again/, 'a finishing run does not take its partitions up again');
  t.same(await stateCounts(config), new Map(), 'nothing of the refused checkpoint reached state');

  const rerun = await runJob(config, { untilIdle: true });
  t.equal(rerun.records, events.length, 'the next run read every record again');
  t.same(await stateCounts(config), modelCounts(events), 'and counted each once');
});
