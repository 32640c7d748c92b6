/**
 * Local log compaction benchmark: how fast `compact()` cleans a changelog partition, and
 * how long it holds the thread it runs on (the coordinator's, which appends and routes
 * every record) without giving the event loop a turn.
 *
 * Per round: a fresh log with one `compact` partition, `--records` changelog records over
 * `--keys` keys (`"user-N"|"count"` keys, a short value, 1,000 records per append, as a
 * worker's checkpoint appends them), background compaction off; then `compact()` of that
 * partition, timed, while a chain of `setImmediate`s records the longest gap between two
 * turns of the event loop.
 *
 * Prints one JSON document: every round and the medians.
 * Run: `node dist/bench/compaction.bench.js [--rounds 3] [--records 1000000] [--keys 100000]`.
 */
import { parseArgs } from 'node:util';
import { LocalLogBackend } from '../shared/log/local/local-log-backend.js';
import { RecordBatchBuilder } from '../shared/protocol/record-batch.js';
import { loadAverage, median, positiveInteger, round, tempDir } from './bench-support.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    records: { type: 'string', default: '1000000' },
    keys: { type: 'string', default: '100000' },
  },
});
const ROUNDS = positiveInteger('rounds', values.rounds);
const RECORDS = positiveInteger('records', values.records);
const KEYS = positiveInteger('keys', values.keys);
const APPEND_RECORDS = 1_000;

interface CompactionRound {
  readonly round: number;
  readonly compactMs: number;
  readonly recordsPerSecond: number;
  /** Longest time between two turns of the event loop while `compact()` ran. */
  readonly longestLoopGapMs: number;
  readonly recordsRead: number;
  readonly recordsRemoved: number;
}

async function runRound(roundNumber: number): Promise<CompactionRound> {
  const dir = await tempDir('weir-bench-compaction-');
  try {
    const backend = await LocalLogBackend.open(dir.path, { compactionMinDirtyRecords: Number.MAX_SAFE_INTEGER });
    await backend.createTopic('changelog', 1, { compact: true });
    const producer = await backend.producer();
    for (let at = 0; at < RECORDS; at += APPEND_RECORDS) {
      const builder = new RecordBatchBuilder(64 * 1024);
      for (let i = at; i < Math.min(RECORDS, at + APPEND_RECORDS); i++) {
        builder.add(1_700_000_000_000, `"user-${i % KEYS}"|"count"`, String(Math.floor(i / KEYS) + 1));
      }
      await producer.appendBatches([{ topic: 'changelog', partition: 0, batch: builder.finish() }]);
    }

    let longestGap = 0;
    let lastTurn = performance.now();
    let watching = true;
    const turn = (): void => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - lastTurn);
      lastTurn = now;
      if (watching) setImmediate(turn);
    };
    setImmediate(turn);
    const started = performance.now();
    const stats = await backend.compact('changelog');
    const compactMs = performance.now() - started;
    watching = false;

    await producer.close();
    await backend.close();
    return {
      round: roundNumber,
      compactMs: round(compactMs),
      recordsPerSecond: round(stats.recordsRead / (compactMs / 1000)),
      longestLoopGapMs: round(longestGap, 1),
      recordsRead: stats.recordsRead,
      recordsRemoved: stats.recordsRemoved,
    };
  } finally {
    await dir.cleanup();
  }
}

const loadAtStart = loadAverage();
const rounds: CompactionRound[] = [];
for (let r = 1; r <= ROUNDS; r++) {
  const result = await runRound(r);
  rounds.push(result);
  process.stderr.write(
    `round ${r}: compact ${result.compactMs} ms (${result.recordsPerSecond} records/s), longest event-loop gap ${result.longestLoopGapMs} ms\n`,
  );
}
console.log(
  JSON.stringify(
    {
      bench: 'compaction',
      records: RECORDS,
      keys: KEYS,
      rounds,
      median: {
        compactMs: median(rounds.map((r) => r.compactMs)),
        recordsPerSecond: median(rounds.map((r) => r.recordsPerSecond)),
        longestLoopGapMs: median(rounds.map((r) => r.longestLoopGapMs)),
      },
      loadAverage: { start: loadAtStart, end: loadAverage() },
    },
    null,
    2,
  ),
);
