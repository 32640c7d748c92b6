/**
 * Gives a worker thread's event loop a turn during long runs of processing, so a message
 * on its control port (an interactive query, a stats call) is answered promptly instead of
 * after every queued batch (docs/server.md, "Who answers"). With the coordinator's count
 * of control calls in flight (shared/protocol/control-calls.ts): a turn as soon as a call
 * arrives, then every `sliceMs` until it is answered, and none while nothing waits (the
 * common case costs one atomic load per record). While the worker answers a query
 * ({@link EventLoopSlices.answering}), a turn after every record: each step of its store
 * read (an iterator's open, its `nextv`) completes in a turn, and at one turn per slice a
 * query waited a millisecond of processing per step. Without the count: a turn every
 * `sliceMs`, as a checkpoint's changelog encoding and flush batch take them, so batches
 * routed meanwhile are processed between their slices.
 *
 * Processing is synchronous between awaits, and consecutive batches whose state is already
 * cached follow one another in microtasks, which never let the loop run: without a yield a
 * query waited for the whole backlog of a busy worker (tens to hundreds of milliseconds).
 * A yield waits until the loop's poll phase has run (delivering port messages and I/O
 * completions).
 */
import type { ControlCallWatch } from '../shared/protocol/control-calls.js';
import { eventLoopTurn } from '../shared/event-loop-turn.js';

export class EventLoopSlices {
  private sliceStart: number;
  /** Queries being answered now. */
  private answeringQueries = 0;

  /**
   * @param sliceMs how long processing may run before the loop gets a turn.
   * @param calls control calls in flight; absent: yield every slice.
   * @param now the clock in milliseconds (tests give their own).
   */
  constructor(
    private readonly sliceMs: number,
    private readonly calls?: ControlCallWatch,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.sliceStart = now();
  }

  /**
   * A promise to await when the current slice is used up (it resolves after the loop has
   * run once, starting a new slice); `undefined` otherwise, so the caller awaits nothing.
   */
  due(): Promise<void> | undefined {
    if (this.answeringQueries > 0) return this.turn();
    if (this.calls !== undefined) {
      const calls = this.calls.look();
      if (calls === 'none') return undefined;
      if (calls === 'new') return this.turn();
    }
    if (this.now() - this.sliceStart < this.sliceMs) return undefined;
    return this.turn();
  }

  /**
   * Runs `answer`, a query's work, with a turn after every record until it settles. Only
   * short calls belong here: a long one (a checkpoint's flush, a recovery chunk) would
   * slow processing to a record per turn for as long as it runs.
   */
  async answering<T>(answer: () => Promise<T>): Promise<T> {
    this.answeringQueries++;
    try {
      return await answer();
    } finally {
      this.answeringQueries--;
    }
  }

  private async turn(): Promise<void> {
    await eventLoopTurn();
    this.sliceStart = this.now();
  }
}
