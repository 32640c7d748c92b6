/**
 * Gives a worker thread's event loop a turn every `sliceMs` of processing, so a message on
 * its control port (an interactive query, a stats call) is answered within about one slice
 * instead of after every queued batch (docs/server.md, "Who answers").
 *
 * Processing is synchronous between awaits, and consecutive batches whose state is already
 * cached follow one another in microtasks, which never let the loop run: without a yield a
 * query waited for the whole backlog of a busy worker (tens to hundreds of milliseconds).
 * A yield waits until the loop's poll phase has run (delivering port messages and I/O
 * completions); at one per millisecond its cost is well below 1 %.
 */
export class EventLoopSlices {
  private sliceStart: number;

  /**
   * @param sliceMs how long processing may run before the loop gets a turn.
   * @param now the clock in milliseconds (tests give their own).
   */
  constructor(
    private readonly sliceMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.sliceStart = now();
  }

  /**
   * A promise to await when the current slice is used up (it resolves after the loop has
   * run once, starting a new slice); `undefined` otherwise, so the caller awaits nothing.
   */
  due(): Promise<void> | undefined {
    if (this.now() - this.sliceStart < this.sliceMs) return undefined;
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
