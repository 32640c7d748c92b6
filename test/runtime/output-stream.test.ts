/**
 * The at-least-once output stream through its public interface, on a recording producer:
 * batches are appended in arrival order, bursts go in one append, and an appended batch's
 * memory is freed once its append resolved (never before, never after a failed append).
 */
import t from 'tap';
import { OutputStream } from '../../runtime/output-stream.js';
import type { AppendBatch, AppendBatchResult, LogProducer } from '../../shared/log/log-backend.js';
import type { EncodedBatch } from '../../shared/protocol/worker-protocol.js';

interface Recording {
  producer: LogProducer;
  /** Copies of the bytes of each append call, taken when the call is made. */
  calls: Array<Array<{ topic: string; bytes: number[] }>>;
  /** Resolves (or fails) the oldest pending append. */
  settle(error?: Error): void;
}

function recordingProducer(): Recording {
  const calls: Recording['calls'] = [];
  const pending: Array<{ resolve: (r: AppendBatchResult[]) => void; reject: (e: Error) => void; batches: readonly AppendBatch[] }> = [];
  const unused = (): never => {
    throw new Error('not used by the output stream');
  };
  const producer: LogProducer = {
    append: unused,
    appendAndCommit: unused,
    appendBatchesAndCommit: unused,
    close: async () => undefined,
    appendBatches: (batches) => {
      calls.push(batches.map((b) => ({ topic: b.topic, bytes: [...b.batch] })));
      return new Promise((resolve, reject) => pending.push({ resolve, reject, batches }));
    },
  };
  return {
    producer,
    calls,
    settle(error) {
      const next = pending.shift();
      if (next === undefined) throw new Error('no append pending');
      if (error !== undefined) next.reject(error);
      else next.resolve(next.batches.map((b) => ({ topic: b.topic, partition: b.partition, baseOffset: 0, lastOffset: 0 })));
    },
  };
}

function batch(topic: string, bytes: number[]): EncodedBatch {
  return { topic, partition: 0, count: 1, buffer: new Uint8Array(bytes).buffer };
}

async function tick(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

t.test('appended batches are freed once their append resolved; bursts go in one append', async (t) => {
  const recording = recordingProducer();
  const stream = new OutputStream(recording.producer, (error) => t.fail(String(error)));
  const first = batch('out', [1, 2, 3]);
  stream.append([first]);
  const second = batch('out', [4]);
  const third = batch('other', [5, 6]);
  stream.append([second]);
  stream.append([third]);
  await tick();
  t.same(recording.calls, [[{ topic: 'out', bytes: [1, 2, 3] }]]);
  t.equal(first.buffer.byteLength, 3, 'not freed while its append runs');
  t.equal(stream.pendingBytes, 6);

  recording.settle();
  await tick();
  t.equal(first.buffer.byteLength, 0, 'freed after its append');
  t.equal(second.buffer.byteLength, 1, 'the next burst is still being appended');
  t.same(recording.calls[1], [
    { topic: 'out', bytes: [4] },
    { topic: 'other', bytes: [5, 6] },
  ]);
  recording.settle();
  await stream.flushed();
  t.equal(second.buffer.byteLength, 0);
  t.equal(third.buffer.byteLength, 0);
  t.equal(stream.pendingBytes, 0);
  t.equal(stream.records, 3);
  t.same([...stream.recordsByTopic], [
    ['out', 2],
    ['other', 1],
  ]);
});

t.test('a failed append frees nothing and stops the stream', async (t) => {
  const recording = recordingProducer();
  const failures: Error[] = [];
  const stream = new OutputStream(recording.producer, (error) => failures.push(error));
  const kept = batch('out', [7, 8]);
  stream.append([kept]);
  await tick();
  recording.settle(new Error('disk full'));
  await t.rejects(stream.flushed(), /disk full/);
  t.equal(failures.length, 1);
  t.equal(kept.buffer.byteLength, 2, 'bytes of an output that is not durable stay');
  stream.append([batch('out', [9])]);
  t.equal(recording.calls.length, 1, 'nothing more is appended');
});
