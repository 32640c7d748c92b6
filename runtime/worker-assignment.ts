/**
 * Which worker thread owns which partition number. Sticky (a partition keeps its
 * worker while it stays assigned, so its open databases and warm caches stay put)
 * and balanced (new partitions go to the least-loaded worker; loads differ by at
 * most one after every change).
 */
export class WorkerAssignment {
  private readonly owners = new Map<number, number>();

  constructor(readonly workerCount: number) {
    if (!Number.isInteger(workerCount) || workerCount < 1) {
      throw new RangeError(`workerCount must be a positive integer, got ${workerCount}`);
    }
  }

  /** Owner of a partition, or undefined when it is not assigned. */
  ownerOf(partition: number): number | undefined {
    return this.owners.get(partition);
  }

  /** Partitions owned by one worker, ascending. */
  partitionsOf(worker: number): number[] {
    return [...this.owners].filter(([, w]) => w === worker).map(([p]) => p).sort((a, b) => a - b);
  }

  /** All assigned partitions, ascending. */
  partitions(): number[] {
    return [...this.owners.keys()].sort((a, b) => a - b);
  }

  /**
   * Add partitions; returns the new owner of each. Already-assigned partitions keep
   * their owner (running partitions never move); new ones fill the least-loaded worker.
   */
  add(partitions: readonly number[]): Map<number, number> {
    const result = new Map<number, number>();
    const loads = this.loads();
    for (const p of [...partitions].sort((a, b) => a - b)) {
      const existing = this.owners.get(p);
      if (existing !== undefined) {
        result.set(p, existing);
        continue;
      }
      let best = 0;
      for (let w = 1; w < this.workerCount; w++) if (loads[w]! < loads[best]!) best = w;
      this.owners.set(p, best);
      loads[best]!++;
      result.set(p, best);
    }
    return result;
  }

  /** Remove partitions; returns the former owner of each removed partition. */
  remove(partitions: readonly number[]): Map<number, number> {
    const result = new Map<number, number>();
    for (const p of partitions) {
      const owner = this.owners.get(p);
      if (owner === undefined) continue;
      this.owners.delete(p);
      result.set(p, owner);
    }
    return result;
  }

  private loads(): number[] {
    const loads = new Array<number>(this.workerCount).fill(0);
    for (const w of this.owners.values()) loads[w]!++;
    return loads;
  }
}
