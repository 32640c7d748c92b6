/**
 * RecoveryRunner's completion rule (docs/semantics.md §5.6): it stops where the reader says the readable
 * end is (past trailing transaction markers, without a read more), and an empty read short
 * of that end — a broker that has not served the data yet — is retried rather than taken as
 * the end, which would leave the partition's state incomplete.
 */
import t from 'tap';
import type { EncodedRecords, LogBackend, LogRecord, PartitionReader, TopicPartition } from '../../shared/log/log-backend.js';
import { decodeBatchSet, encodeBatchSet } from '../../shared/protocol/record-batch.js';
import type { WorkerControl } from '../../shared/protocol/worker-protocol.js';
import { RecoveryRunner } from '../../runtime/recovery-runner.js';

const TOPIC = 'changelog__app--events--counts';

function record(offset: number): LogRecord {
  return { topic: TOPIC, partition: 0, offset, key: Buffer.from(`k${offset}`), value: Buffer.from('1'), headers: [], timestamp: 0 };
}

/** A changelog of `records` data records followed by `markers` offsets that hold nothing readable. */
function scriptedReader(records: number, markers: number, emptyReadsFirst: number): PartitionReader & { reads: number[] } {
  let empties = emptyReadsFirst;
  const reads: number[] = [];
  return {
    reads,
    async read() {
      throw new Error('the runner uses readEncoded');
    },
    async readEncoded(_tp: TopicPartition, from: number, max: number): Promise<EncodedRecords> {
      reads.push(from);
      if (empties > 0) {
        empties--;
        return { buffer: encodeBatchSet([]), count: 0, lastOffset: -1, nextOffset: from };
      }
      const batch = Array.from({ length: Math.max(0, Math.min(max, records - from)) }, (_, i) => record(from + i));
      const reachedEnd = from + batch.length >= records;
      return {
        buffer: encodeBatchSet(batch),
        count: batch.length,
        lastOffset: batch[batch.length - 1]?.offset ?? -1,
        nextOffset: reachedEnd ? records + markers : from + batch.length,
      };
    },
    async close() {},
  };
}

function harness(high: number) {
  const applied: number[] = [];
  const warnings: string[] = [];
  const backend = { watermarks: async () => ({ low: 0, high }) } as unknown as LogBackend;
  const worker = {
    recover: async (_partition: number, _store: string, chunk: ArrayBuffer) => {
      for (const r of decodeBatchSet(chunk, TOPIC, 0)) applied.push(r.offset);
    },
  } as unknown as WorkerControl;
  const recover = (reader: PartitionReader) =>
    new RecoveryRunner(backend, reader, { chunkSize: 4, emptyReadBackoffMs: 1, onWarning: (m) => warnings.push(m) }).recoverPartition(
      worker,
      0,
      [{ store: 'counts', changelogOffset: undefined }],
      { counts: TOPIC },
      {},
    );
  return { applied, warnings, recover };
}

t.test('empty reads short of the end are retried: every record is applied', async (t) => {
  const h = harness(10);
  const reader = scriptedReader(10, 0, 3);
  t.equal(await h.recover(reader), 10);
  t.same(h.applied, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.same(h.warnings, []);
});

t.test('trailing transaction markers: the reader reports the end past them, no read more', async (t) => {
  const h = harness(11);
  const reader = scriptedReader(9, 2, 0);
  t.equal(await h.recover(reader), 9);
  t.same(reader.reads, [0, 4, 8], 'three chunks, no extra read for the markers');
  t.same(h.warnings, []);
});

t.test('nothing readable before the end (an open transaction): complete after the retries, with a warning', async (t) => {
  const h = harness(10);
  const reader = scriptedReader(6, 0, 0); // offsets 6..9 never become readable; the reader stops at 6
  const original = reader.readEncoded!.bind(reader);
  reader.readEncoded = async (tp, from, max) => {
    const chunk = await original(tp, from, max);
    return { ...chunk, nextOffset: Math.min(chunk.nextOffset ?? from, 6) };
  };
  t.equal(await h.recover(reader), 6);
  t.same(h.applied, [0, 1, 2, 3, 4, 5]);
  t.equal(reader.reads.filter((from) => from === 6).length, 6, 'the first empty read and five retries');
  t.match(h.warnings, [/changelog__app--events--counts\[0\].*offset 6 to 10/]);
});
