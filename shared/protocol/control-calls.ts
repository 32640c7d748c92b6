/**
 * Control calls in flight to one worker, counted in memory shared by the coordinator and
 * the worker thread (a SharedArrayBuffer of two Int32 counters: calls sent, calls
 * answered). The worker reads it before every record (one atomic load): while nothing
 * waits it runs on without yielding, and when a call (an interactive query, a metrics
 * scrape's stats) waits it gives its event loop a turn at once and then every slice until
 * the call is answered (workers/event-loop-slices.ts). So a query does not wait for the
 * worker's queued batches, and processing pays nothing when nobody asks.
 */

const SENT = 0;
const ANSWERED = 1;

/** The coordinator's side: counts each control call from its sending to its answer. */
export class ControlCallCounter {
  readonly buffer = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
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

/** The worker's side: whether control calls wait, and whether one arrived since the last look. */
export class ControlCallWatch {
  private readonly counts: Int32Array;
  private seen = 0;

  constructor(buffer: SharedArrayBuffer) {
    this.counts = new Int32Array(buffer);
  }

  /** `'new'` when a call was sent since the last look, `'waiting'` when calls are still unanswered, else `'none'`. */
  look(): 'new' | 'waiting' | 'none' {
    const sent = Atomics.load(this.counts, SENT);
    if (sent === this.seen) return sent === Atomics.load(this.counts, ANSWERED) ? 'none' : 'waiting';
    this.seen = sent;
    return 'new';
  }
}
