/**
 * Gives a worker thread's event loop a turn during long runs of processing, so a message
 * on its control port (an interactive query, a stats call) is answered promptly instead of
 * after every queued batch (docs/server.md, "Who answers"). With the shared count of
 * control calls (shared/protocol/control-calls.ts): a turn as soon as a call arrives, a
 * turn after every record while the call is in the worker's hands (its store read takes a
 * few turns: at one per slice a query waited a millisecond of processing per step), a turn
 * every `sliceMs` while its reply is on the way back, and none while nothing waits (the
 * common case costs one atomic load per record). Without it: a turn every `sliceMs`, as a
 * checkpoint's changelog encoding and flush batch take them, so batches routed meanwhile
 * are processed between their slices.
 *
 * Processing is synchronous between awaits, and consecutive batches whose state is already
 * cached follow one another in microtasks, which never let the loop run: without a yield a
 * query waited for the whole backlog of a busy worker (tens to hundreds of milliseconds).
 * A yield waits until the loop's poll phase has run (delivering port messages and I/O
 * completions).
 */
import type { ControlCallWatch } from '../shared/protocol/control-calls.js';

export class EventLoopSlices {
  private sliceStart: number;

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
    if (this.calls !== undefined) {
      const calls = this.calls.look();
      if (calls === 'none') return undefined;
      if (calls === 'new' || calls === 'in-hand') return this.turn();
    }
    if (this.now() - this.sliceStart < this.sliceMs) return undefined;
    return this.turn();
  }

  private turn(): Promise<void> {
    // Two immediates: one alone runs in the check phase of the current loop iteration when
    // processing was started from the poll phase (a message on the data port), before any
    // new message is polled; the second runs after the next poll phase.
    return new Promise((resolve) =>
      setImmediate(() =>
        setImmediate(() => {
          this.sliceStart = this.now();
          resolve();
        }),
      ),
    );
  }
}
