/**
 * In-process wake-up for consumers waiting in `poll`: the store fires it after every
 * durable append, so waiting costs nothing (no polling of the database).
 */
export class AppendSignal {
  private waiters = new Set<() => void>();

  /** Resolves at the next `fire()` or after `timeoutMs`, whichever is first. */
  wait(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(0, timeoutMs));
      this.waiters.add(wake);
    });
  }

  /** Wakes every current waiter. */
  fire(): void {
    if (this.waiters.size === 0) return;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }
}
