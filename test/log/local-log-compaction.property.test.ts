/**
 * Compaction against a model: whatever was appended (keys repeated, tombstones young and
 * expired, null keys), in whatever batches, compacted whenever, what is left is the latest
 * record of every key at its offset, minus expired tombstones and null-keyed records. Run
 * with a key bound per pass that sends partitions through the one-read pass (newest first)
 * and through the two-step pass that maps the dirty part's keys first.
 */
import t, { type Test } from 'tap';
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalLogBackend } from '../../shared/log/local/local-log-backend.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const TOPIC = 'changelog';

interface Update {
  /** Key index, or null for a record without a key. */
  readonly key: number | null;
  readonly tombstone: boolean;
  /** Stamped two days ago: as a tombstone, past the one-day `deleteRetentionMs`. */
  readonly old: boolean;
}

const update: fc.Arbitrary<Update> = fc.record({
  key: fc.option(fc.integer({ min: 0, max: 7 }), { nil: null, freq: 12 }),
  tombstone: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
  old: fc.boolean(),
});

const scenario = fc.record({
  maxKeysPerPass: fc.constantFrom(1, 3, 10, 1_000_000),
  rounds: fc.array(
    fc.record({
      appends: fc.array(fc.array(update, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 4 }),
      compact: fc.boolean(),
    }),
    { minLength: 1, maxLength: 6 },
  ),
});

const keyText = (key: number | null): string | null => (key === null ? null : `k${key}`);
const text = (bytes: Uint8Array | null): string | null => (bytes === null ? null : Buffer.from(bytes).toString('utf8'));

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-compaction-property-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test('compaction keeps the latest record of every key at its offset, through both kinds of pass', async (t) => {
  const base = await tempDir(t);
  let run = 0;
  await fc.assert(
    fc.asyncProperty(scenario, async ({ maxKeysPerPass, rounds }) => {
      const log = await LocalLogBackend.open(join(base, String(run++)), {
        deleteRetentionMs: DAY_MS,
        compactionMinDirtyRecords: Number.MAX_SAFE_INTEGER,
        compactionMaxKeysPerPass: maxKeysPerPass,
      });
      try {
        await log.createTopic(TOPIC, 1, { compact: true });
        const producer = await log.producer();
        const now = Date.now();
        const appended: Update[] = [];
        for (const round of rounds) {
          for (const batch of round.appends) {
            await producer.append(
              batch.map((u, i) => ({
                topic: TOPIC,
                partition: 0,
                key: u.key === null ? null : Buffer.from(keyText(u.key)!),
                value: u.tombstone ? null : Buffer.from(`v${appended.length + i}`),
                timestamp: u.old ? now - 2 * DAY_MS : now,
              })),
            );
            appended.push(...batch);
          }
          if (round.compact) await log.compact(TOPIC);
        }
        await log.compact(TOPIC);

        const latest = new Map<number, number>();
        appended.forEach((u, offset) => {
          if (u.key !== null) latest.set(u.key, offset);
        });
        const expected = [...latest.values()]
          .filter((offset) => !(appended[offset]!.tombstone && appended[offset]!.old))
          .sort((a, b) => a - b)
          .map((offset) => [offset, keyText(appended[offset]!.key), appended[offset]!.tombstone ? null : `v${offset}`]);
        const reader = await log.reader();
        const left = await reader.read({ topic: TOPIC, partition: 0 }, 0, 10_000);
        t.same(
          left.map((r) => [r.offset, text(r.key), text(r.value)]),
          expected,
        );
        t.same(await log.watermarks({ topic: TOPIC, partition: 0 }), { low: 0, high: appended.length });
      } finally {
        await log.close();
      }
    }),
    { numRuns: 60 },
  );
});
