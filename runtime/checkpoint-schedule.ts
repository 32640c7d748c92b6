/**
 * When the run loop checkpoints, and which partitions (docs/semantics.md §8.2).
 *
 * Exactly-once, `commitEvery` and a zero interval checkpoint every partition at once: one
 * transaction per commit, and a cut after exactly the records routed. Under at-least-once
 * with an interval the partitions are checkpointed in **slices spread over the interval**:
 * every partition still once per interval, but one slice at a time, at least
 * {@link MIN_SLICE_SPACING_MS} apart. A checkpoint's work (changelog encoding and appends,
 * the stores' flush, the changelog's compaction) grows with the keys changed since the
 * last one, so all partitions at once was a burst of CPU every interval that held every
 * record arriving during it (the tail of the append → output latency); a slice is a
 * fraction of it. Past the pending-bytes limit every partition is checkpointed at once.
 */

/** What to checkpoint: every partition, or the listed ones. */
export type CheckpointCut = 'all' | readonly number[];

export interface CheckpointScheduleOptions {
  /** The commit interval in milliseconds (0: after every poll). */
  readonly intervalMs: number;
  /** Checkpoint after this many routed records (0: off). */
  readonly commitEvery: number;
  /** Checkpoint in slices of the partitions (at-least-once). */
  readonly sliced: boolean;
}

/** The least time between two slices' checkpoints: more slices than fit are made larger. */
export const MIN_SLICE_SPACING_MS = 250;

export class CheckpointSchedule {
  private routedTotal = 0;
  /** Records routed since the last checkpoint of any kind. */
  private routedSinceCheckpoint = 0;
  private lastCheckpointAt: number;
  /** The slice whose turn is next. */
  private cursor = 0;
  /** How many slices the partitions were cut into last time (a change starts them over). */
  private slices = 0;
  /** Per slice, `routedTotal` when it was last checkpointed. */
  private routedAtSlice: number[] = [];

  constructor(
    private readonly options: CheckpointScheduleOptions,
    now: number,
  ) {
    this.lastCheckpointAt = now;
  }

  /** `count` records were routed. */
  routed(count: number): void {
    this.routedTotal += count;
    this.routedSinceCheckpoint += count;
  }

  /** Records routed since the last checkpoint (the loop reads at most up to `commitEvery`). */
  get routedSinceLast(): number {
    return this.routedSinceCheckpoint;
  }

  /**
   * What is due at `now`, or `undefined`. `overLimit`: the workers hold more than the limit
   * for a checkpoint. `partitions`: the assigned partition numbers (read only for slices).
   * A returned cut must be started ({@link started}).
   */
  due(now: number, overLimit: boolean, partitions: () => readonly number[]): CheckpointCut | undefined {
    const { intervalMs, commitEvery } = this.options;
    if (overLimit && this.routedSinceCheckpoint > 0) return 'all';
    if (!this.options.sliced || intervalMs === 0 || commitEvery > 0) {
      if (this.routedSinceCheckpoint === 0) return undefined;
      const due = now - this.lastCheckpointAt >= intervalMs || (commitEvery > 0 && this.routedSinceCheckpoint >= commitEvery);
      return due ? 'all' : undefined;
    }
    if (now - this.lastCheckpointAt < Math.min(intervalMs, MIN_SLICE_SPACING_MS)) return undefined;
    const assigned = [...new Set(partitions())].sort((a, b) => a - b);
    if (assigned.length === 0) return undefined;
    const slices = Math.max(1, Math.min(assigned.length, Math.floor(intervalMs / MIN_SLICE_SPACING_MS)));
    if (slices !== this.slices) {
      // A new cut of the partitions: every slice is taken as having work.
      this.slices = slices;
      this.routedAtSlice = [];
      this.cursor %= slices;
    }
    if (now - this.lastCheckpointAt < intervalMs / slices) return undefined;
    // A slice nothing was routed to since its last checkpoint has nothing to write: its
    // turn passes. (The count is over all partitions, so a turn is never skipped wrongly.)
    for (let turn = 0; turn < slices; turn++) {
      if (this.routedTotal > (this.routedAtSlice[this.cursor] ?? 0)) {
        return assigned.filter((_, i) => i % slices === this.cursor);
      }
      this.cursor = (this.cursor + 1) % slices;
    }
    return undefined;
  }

  /** The loop started checkpoint `cut` at `now`. */
  started(now: number, cut: CheckpointCut): void {
    this.lastCheckpointAt = now;
    this.routedSinceCheckpoint = 0;
    if (cut === 'all') {
      for (let i = 0; i < this.slices; i++) this.routedAtSlice[i] = this.routedTotal;
      return;
    }
    this.routedAtSlice[this.cursor] = this.routedTotal;
    this.cursor = (this.cursor + 1) % Math.max(1, this.slices);
  }
}
