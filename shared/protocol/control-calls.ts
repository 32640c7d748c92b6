/**
 * Control calls in flight to one worker, counted in memory shared by the coordinator and
 * the worker thread (a SharedArrayBuffer of three Int32 counters: calls sent and calls
 * answered, counted by the coordinator; replies posted, counted by the worker). The worker
 * reads it before every record (one atomic load): while nothing waits it runs on without
 * yielding; when a call (an interactive query, a metrics scrape's stats) arrives it gives
 * its event loop a turn at once, a turn after every record while the call is in its hands
 * (a query's store read needs a few turns, and each turn after a slice of processing cost
 * a millisecond), and a turn every slice while its reply is on the way back
 * (workers/event-loop-slices.ts). So a query does not wait for the worker's queued
 * batches, and processing pays nothing when nobody asks.
 */
import type { Endpoint } from 'comlink';

const SENT = 0;
const ANSWERED = 1;
const REPLIED = 2;

/** The coordinator's side: counts each control call from its sending to its answer. */
export class ControlCallCounter {
  readonly buffer = new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT);
  private readonly counts = new Int32Array(this.buffer);

  /**
   * Counts `send()` (which must post its message synchronously, as comlink does) as
   * waiting until the promise it returns settles. The count goes up after the message is
   * posted, so a worker that sees it finds the message on its port.
   */
  track<T>(send: () => Promise<T>): Promise<T> {
    const call = send();
    Atomics.add(this.counts, SENT, 1);
    const answered = (): void => void Atomics.add(this.counts, ANSWERED, 1);
    call.then(answered, answered);
    return call;
  }
}

/**
 * What the worker sees of its control calls: `'new'` (a call was sent since the last look),
 * `'in-hand'` (a call the worker has not replied to yet), `'waiting'` (replied, the answer
 * not yet taken by the coordinator) or `'none'`.
 */
export type ControlCallState = 'new' | 'in-hand' | 'waiting' | 'none';

/** The worker's side: whether control calls wait, and whether one arrived since the last look. */
export class ControlCallWatch {
  private readonly counts: Int32Array;
  private seen = 0;

  constructor(buffer: SharedArrayBuffer) {
    this.counts = new Int32Array(buffer);
  }

  look(): ControlCallState {
    const sent = Atomics.load(this.counts, SENT);
    if (sent !== this.seen) {
      this.seen = sent;
      return 'new';
    }
    // The coordinator's answered count first: a call that failed on its side (the thread
    // died) is never replied to, and must not keep the worker turning after every record.
    if (sent === Atomics.load(this.counts, ANSWERED)) return 'none';
    return sent > Atomics.load(this.counts, REPLIED) ? 'in-hand' : 'waiting';
  }
}

/**
 * The worker's control endpoint, counting every reply it posts: comlink answers each
 * message with exactly one reply, so replies posted = calls the worker is done with.
 */
export function countingReplies(endpoint: Endpoint, buffer: SharedArrayBuffer): Endpoint {
  const counts = new Int32Array(buffer);
  return {
    postMessage(message: unknown, transfer?: Parameters<Endpoint['postMessage']>[1]): void {
      endpoint.postMessage(message, transfer);
      Atomics.add(counts, REPLIED, 1);
    },
    addEventListener: endpoint.addEventListener.bind(endpoint),
    removeEventListener: endpoint.removeEventListener.bind(endpoint),
  };
}
