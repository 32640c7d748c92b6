/**
 * A live-produce request body as record batches ready to append (docs/server.md, "How
 * produce and queries stay off the coordinator"): every line is parsed and validated by
 * `validateInputLine` (the code `weir produce` validates with), then the records are
 * encoded as record batches (shared/protocol/record-batch.ts). This runs on the produce
 * parser thread (produce-parser-thread.ts), so the coordinator appends bytes without
 * touching a record.
 *
 * Two forms:
 * - **partitioned** (every record has a key and the topic's partition count is known):
 *   one or more batches per partition, each record on the partition the backends'
 *   default partitioner gives its key (Kafka's murmur2, `partitionForKey`); appended
 *   with `appendBatches` in one call.
 * - **unpartitioned** (some record has no key, or the partition count is unknown):
 *   batches of the records in input order that the coordinator turns back into records
 *   and appends with `append`, so the backend's own rule for unkeyed records applies as
 *   before (the local log puts all of a call's unkeyed records on one partition in
 *   rotation; Kafka a random one).
 *
 * Records without a timestamp get the time the body is encoded (`now`), not the time of
 * the append: both are when the request arrived, up to the backpressure wait.
 */
import type { RecordHeader } from '../../shared/log/log-backend.js';
import { partitionForKey } from '../../shared/log/murmur2-partitioner.js';
import { RecordBatchBuilder, writeUtf8 } from '../../shared/protocol/record-batch.js';
import { WRITE_BATCH_BYTES, WRITE_BATCH_RECORDS } from '../../shared/log/local/local-log-store.js';
import { jsonText, validateInputLine, type ValidInputLine } from '../cli/input-record.js';
import { forEachBodyLine } from './live-produce.js';

const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);

/** One encoded batch; `partition` is `undefined` in the unpartitioned form. */
export interface BodyBatch {
  readonly partition: number | undefined;
  readonly batch: Uint8Array;
}

/** A request body encoded as record batches. */
export interface EncodedBody {
  /** Records of the body (blank lines are not records). */
  readonly count: number;
  /** Lines that were not valid UTF-8, as `weir produce` words them. */
  readonly warnings: string[];
  /** The partition count the records were partitioned for; `undefined` in the unpartitioned form. */
  readonly partitions: number | undefined;
  /** In partition order (partitioned) or input order (unpartitioned). */
  readonly batches: BodyBatch[];
}

/** Limits of one batch: the local log's own (`LocalLogStore.write`) so reads see the same batch sizes. */
export interface BatchLimits {
  readonly records: number;
  readonly bytes: number;
}

const DEFAULT_LIMITS: BatchLimits = { records: WRITE_BATCH_RECORDS, bytes: WRITE_BATCH_BYTES };

/** Builds batches of at most `limits`, closing one when full. */
class BatchSplitter {
  private builder: RecordBatchBuilder | undefined;
  readonly batches: Uint8Array[] = [];

  constructor(
    private readonly limits: BatchLimits,
    private readonly initialBytes: number,
  ) {}

  add(timestamp: number, key: Uint8Array | string | null, value: string | null, headers: readonly RecordHeader[]): void {
    const builder = (this.builder ??= new RecordBatchBuilder(this.initialBytes));
    builder.add(timestamp, key, value, headers);
    if (builder.count >= this.limits.records || builder.byteLength >= this.limits.bytes) this.close();
  }

  close(): void {
    if (this.builder === undefined) return;
    this.batches.push(this.builder.finish());
    this.builder = undefined;
  }
}

/** A key's UTF-8 in a scratch buffer reused from record to record (hashed, then copied into its batch). */
class KeyScratch {
  private bytes = new Uint8Array(1024);

  encode(text: string): Uint8Array {
    if (3 * text.length > this.bytes.length) this.bytes = new Uint8Array(3 * text.length);
    return this.bytes.subarray(0, writeUtf8(this.bytes, 0, text));
  }
}

/**
 * Parses, validates and encodes `body`. `partitions`: the topic's partition
 * count, or `undefined` when it is not known (then the unpartitioned form). Key and value
 * are the compact JSON `parseInputLine` encodes, written straight into the batches.
 * @throws InputLineError naming the first bad line and its field (nothing is encoded).
 */
export async function encodeRecordsBody(
  body: Uint8Array,
  partitions: number | undefined,
  now: number = Date.now(),
  limits: BatchLimits = DEFAULT_LIMITS,
): Promise<EncodedBody> {
  // Every line is validated before any is encoded: the form depends on all of them.
  const lines: ValidInputLine[] = [];
  let keyed = partitions !== undefined;
  const warnings = await forEachBodyLine(body, (text, lineNumber) => {
    const line = validateInputLine(text, lineNumber);
    if (line === undefined) return;
    if (line.key === null || line.key === undefined) keyed = false;
    lines.push(line);
  });
  const initialBytes = Math.min(limits.bytes, 64 * 1024) + 64;
  if (!keyed) {
    const splitter = new BatchSplitter(limits, initialBytes);
    for (const line of lines) splitter.add(line.timestamp ?? now, jsonText(line.key), jsonText(line.value), line.headers ?? NO_HEADERS);
    splitter.close();
    return { count: lines.length, warnings, partitions: undefined, batches: splitter.batches.map((batch) => ({ partition: undefined, batch })) };
  }
  const splitters: (BatchSplitter | undefined)[] = [];
  const scratch = new KeyScratch();
  for (const line of lines) {
    const key = scratch.encode(jsonText(line.key)!);
    const partition = partitionForKey(key, partitions!);
    const splitter = (splitters[partition] ??= new BatchSplitter(limits, initialBytes));
    splitter.add(line.timestamp ?? now, key, jsonText(line.value), line.headers ?? NO_HEADERS);
  }
  const batches: BodyBatch[] = [];
  splitters.forEach((splitter, partition) => {
    if (splitter === undefined) return;
    splitter.close();
    for (const batch of splitter.batches) batches.push({ partition, batch });
  });
  return { count: lines.length, warnings, partitions, batches };
}
