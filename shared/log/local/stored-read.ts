/**
 * What a read of one partition's stored batches gives (`StoredRead`), and how it is
 * gathered from stored entries in key order, whichever way they were fetched (an
 * iterator's chunks, or one `getMany` of known keys).
 */
import { type BaseBatch, batchInfo, countFrom, forEachRecordKey } from '../../protocol/record-batch.js';
import { baseOffsetFromBatchKey, lastOffsetFromBatchKey } from './key-layout.js';

export interface StoredRead {
  /** Batches holding at least one record at or after the read's start, in offset order. */
  readonly batches: BaseBatch[];
  /** Records at or after the read's start in `batches`. */
  readonly count: number;
  /** Offset of the last record (−1 when `count` is 0). */
  readonly lastOffset: number;
  /** Where reading goes on: after the last entry read (past gaps), or the start when nothing was. */
  readonly nextOffset: number;
  /** Set when the read ends inside its last batch (exactly `maxRecords`): records from here on are not part of it. */
  readonly toOffset?: number;
}

/** Gathers a {@link StoredRead} of up to `maxRecords` records from `fromOffset`, one stored entry at a time. */
export class StoredReadBuilder {
  private readonly batches: BaseBatch[] = [];
  private gathered = 0;
  private lastOffset = -1;
  private nextOffset: number;
  private lastBatchRecords = 0;
  /** Entries and records seen, for the partition's records-per-batch estimate. */
  entriesSeen = 0;
  recordsSeen = 0;

  constructor(
    private readonly fromOffset: number,
    private readonly maxRecords: number,
  ) {
    this.nextOffset = fromOffset;
  }

  /** True once the read holds `maxRecords` records: no entry is wanted any more. */
  get full(): boolean {
    return this.gathered >= this.maxRecords;
  }

  /** Records gathered so far. */
  get count(): number {
    return this.gathered;
  }

  /** Adds the stored entry `key` → `value` (the next one in key order). */
  add(key: Buffer, value: Buffer): void {
    const baseOffset = baseOffsetFromBatchKey(key);
    this.nextOffset = lastOffsetFromBatchKey(key) + 1;
    const info = batchInfo(value);
    this.entriesSeen++;
    this.recordsSeen += info.count;
    if (info.count === 0) return;
    const records = this.fromOffset <= baseOffset ? info.count : countFrom(value, baseOffset, this.fromOffset);
    if (records === 0) return;
    this.batches.push({ baseOffset, batch: value });
    this.gathered += records;
    this.lastBatchRecords = records;
    this.lastOffset = baseOffset + info.lastOffsetDelta;
  }

  /** The read; when it ended inside its last batch, cut at exactly `maxRecords` (as Kafka's max.poll.records). */
  result(): StoredRead {
    const { batches, gathered: count, lastOffset, nextOffset, maxRecords, fromOffset } = this;
    if (count <= maxRecords) return { batches, count, lastOffset, nextOffset };
    // The set carries the end; the batch stays whole.
    const last = batches[batches.length - 1]!;
    const wanted = this.lastBatchRecords - (count - maxRecords);
    let seen = 0;
    let end = -1;
    forEachRecordKey(last.batch, last.baseOffset, (offset) => {
      if (offset >= fromOffset && ++seen === wanted) end = offset;
    });
    return { batches, count: maxRecords, lastOffset: end, nextOffset: end + 1, toOffset: end + 1 };
  }
}
