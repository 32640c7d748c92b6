/**
 * The keys of the batches last appended to each partition of a topic that is not
 * compacted, so that a consumer reading at the tail (most do, most of the time) knows
 * which entries to get: one `getMany` for every partition of a poll instead of an
 * iterator per partition (a seek, a `nextv`, a close: each a turn in libuv's thread
 * pool, which a checkpoint's writes keep busy). Only keys and offsets are kept, never
 * the bytes. A compacted topic's batches are rewritten under other keys, so it has none.
 */
export interface RecentBatch {
  readonly key: Buffer;
  readonly baseOffset: number;
  readonly lastOffset: number;
}

/** Batches remembered per partition (a poll at the tail reads a few of them). */
export const RECENT_BATCHES_PER_PARTITION = 64;

export class RecentBatches {
  private readonly byPartition: RecentBatch[][];

  constructor(partitions: number) {
    this.byPartition = Array.from({ length: partitions }, () => []);
  }

  /** Records a published batch; batches of a partition are published in offset order. */
  add(partition: number, batch: RecentBatch): void {
    const recent = this.byPartition[partition]!;
    if (recent.length >= RECENT_BATCHES_PER_PARTITION) recent.splice(0, recent.length - RECENT_BATCHES_PER_PARTITION + 1);
    recent.push(batch);
  }

  /**
   * Keys of the batches holding offsets `fromOffset` onwards until they span
   * `maxRecords` offsets or reach `high` (the partition's end), in order; `undefined`
   * when the batches remembered do not cover that stretch without a gap (`fromOffset` is
   * older than them): the read then goes to the database by iterator.
   */
  keysFrom(partition: number, fromOffset: number, maxRecords: number, high: number): Buffer[] | undefined {
    const recent = this.byPartition[partition]!;
    if (recent.length === 0 || recent[0]!.baseOffset > fromOffset) return undefined;
    let i = recent.length - 1;
    while (i > 0 && recent[i - 1]!.lastOffset >= fromOffset) i--;
    const keys: Buffer[] = [];
    let spanned = 0;
    let next = fromOffset;
    for (; i < recent.length && spanned < maxRecords; i++) {
      const batch = recent[i]!;
      if (batch.lastOffset < next) continue;
      if (batch.baseOffset > next) return undefined;
      keys.push(batch.key);
      spanned += batch.lastOffset - next + 1;
      next = batch.lastOffset + 1;
    }
    if (spanned < maxRecords && next < high) return undefined;
    return keys;
  }
}
