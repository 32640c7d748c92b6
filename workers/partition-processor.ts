/**
 * Everything one worker does for one partition between two checkpoints: one open
 * transaction per store, the processed source offsets, and the emitted outputs.
 *
 * A batch is processed in two steps so user code runs synchronously against memory:
 * first every state key the batch will read is loaded with one `getMany` per store,
 * then the pipeline runs record by record.
 */
import type { RecordHeader } from '../shared/log/log-backend.js';
import type {
  InputRecord,
  JsonValue,
  KeyValueState,
  OutputRecord,
  PipelineDefinition,
  ProcessingContext,
} from '../shared/pipeline/pipeline-definition.js';
import type { ChangelogBatch, ErrorPolicy } from '../shared/protocol/worker-protocol.js';
import { RecordBatchBuilder } from '../shared/protocol/record-batch.js';
import { encodeUserKey, joinPrefixedKey } from '../shared/codecs/index.js';
import type { KeyValueStore, PartitionTransaction } from './state/index.js';
import { StateView } from './state/index.js';
import { formatNamesOf, rawValueOf, type EagerDecoder } from './record-decoding.js';
import { TopicFormats } from '../shared/serialization/topic-formats.js';
import type { OutputBatches } from './output-batches.js';
import {
  InvalidOutputTimestampError,
  RecordTimestampOutOfRangeError,
  UnknownOutputTopicError,
  UnknownStoreError,
} from '../shared/errors/runtime-errors.js';
import { isSaneTimestamp } from '../shared/timestamps.js';
import type { EmitMode } from '../shared/pipeline/windows.js';
import { createWindowOperator, type WindowOperator } from './windows/index.js';
import { TimestampedTransaction } from './state/timestamped-transaction.js';
import { WindowedTransaction } from './state/windowed-transaction.js';
import type { TimestampedState } from '../shared/pipeline/pipeline-definition.js';

/** Default retention of timestamped stores (the reference's join default). */
const DEFAULT_TIMESTAMPED_GRACE_MS = 7 * 24 * 3600 * 1000;

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** What a processing error should do (config `errors.policy`). */

/** A record whose processing failed under the `stop` policy. */
export class RecordProcessingError extends Error {
  constructor(readonly record: InputRecord, override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

export interface PartitionProcessorOptions {
  readonly partition: number;
  readonly pipeline: PipelineDefinition;
  readonly stores: ReadonlyMap<string, KeyValueStore>;
  readonly changelogTopics: Readonly<Record<string, string>>;
  readonly outputTopics: ReadonlySet<string>;
  /** Where outputs and dead letters go, encoded (shared by the worker's processors). */
  readonly outputs: OutputBatches;
  /** Key and value formats of the input and output topics (default JSON). */
  readonly formats?: TopicFormats;
  readonly errorPolicy: ErrorPolicy;
  readonly deadLetterTopic?: string;
  readonly onSkipped?: (record: InputRecord, error: unknown) => void;
  /** Where window warnings (late records) go; default stderr. */
  readonly onWarning?: (message: string) => void;
}

/** A declared window as the processor runs it. */
interface ActiveWindow {
  readonly operator: WindowOperator;
  readonly emit: EmitMode;
  readonly to: string | undefined;
}

/** Late-record warnings per processor before they are summarized (a late burst must not flood stderr). */
const MAX_WARNINGS = 20;

export class PartitionProcessor {
  private transactions = new Map<string, PartitionTransaction>();
  /** One windowed view per window store and checkpoint (it caches the windows it has read). */
  private windowedTransactions = new Map<string, WindowedTransaction>();
  /** One timestamped view per timestamped store and checkpoint (it runs retention at prepare). */
  private timestampedTransactions = new Map<string, TimestampedTransaction>();
  private processed: Record<string, number> = {};
  /**
   * Transactions of the last prepared checkpoint, until its changelog is delivered and
   * `flush` writes them. Processing goes on meanwhile in transactions that continue them.
   */
  private prepared = new Map<string, PartitionTransaction>();
  private preparedFlushed: Promise<void> = Promise.resolve();
  private markPreparedFlushed: () => void = () => undefined;
  private readonly defaultStore: string | undefined;
  private readonly windows: ActiveWindow[];
  private warnings = 0;
  /** A record is being processed under savepoints (skip / dead-letter policies). */
  private inGuardedRecord = false;
  /** `closeWindows` ran in the current checkpoint (state changed without processed records). */
  private windowsClosed = false;

  private readonly formats: TopicFormats;

  constructor(private readonly options: PartitionProcessorOptions) {
    this.formats = options.formats ?? TopicFormats.json();
    // Window stores are not user state: the default store is the only declared one.
    const names = Object.keys(options.pipeline.stores ?? {});
    this.defaultStore = names.length === 1 ? names[0] : undefined;
    const warn = (message: string): void => this.warn(message);
    this.windows = Object.entries(options.pipeline.windows ?? {}).map(([name, declaration]) => {
      if (declaration.to !== undefined && !options.outputTopics.has(declaration.to)) {
        throw new UnknownOutputTopicError(declaration.to, [...options.outputTopics]);
      }
      return { operator: createWindowOperator(name, declaration, warn), emit: declaration.emit ?? 'final', to: declaration.to };
    });
  }

  private warn(message: string): void {
    this.warnings++;
    if (this.warnings > MAX_WARNINGS) return;
    const sink = this.options.onWarning ?? ((m: string) => process.stderr.write(`weir: ${m}\n`));
    sink(this.warnings === MAX_WARNINGS ? `${message} (further warnings of partition ${this.options.partition} suppressed)` : message);
  }

  get partition(): number {
    return this.options.partition;
  }

  /** True when something was processed (or windows were closed) since the last checkpoint. */
  get hasWork(): boolean {
    return Object.keys(this.processed).length > 0 || this.windowsClosed;
  }

  /**
   * End of input (`weir run --until-idle --close-windows`): closes every open window of
   * every declared window and queues the results of `emit: 'final'` windows (those with
   * `emit: 'current'` already went out with their last update). Returns the number of
   * windows closed. The next checkpoint writes the change.
   */
  async closeWindows(): Promise<number> {
    let closed = 0;
    for (const window of this.windows) {
      const results = await window.operator.closeAll(this.windowedTransaction(window.operator.storeName));
      closed += results.length;
      if (window.to === undefined || window.emit !== 'final') continue;
      for (const result of results) this.options.outputs.add(window.to, result.prefix, this.formats.format(window.to, 'value').serialize(result.payload), NO_HEADERS, result.start);
    }
    if (this.windows.length > 0) this.windowsClosed = true;
    return closed;
  }

  /** True while prepared transactions wait for `flush`. */
  get hasPrepared(): boolean {
    return this.prepared.size > 0;
  }

  private transaction(store: string): PartitionTransaction {
    let tx = this.transactions.get(store);
    if (tx === undefined) {
      const s = this.options.stores.get(store);
      if (s === undefined) throw new UnknownStoreError(store, [...this.options.stores.keys()]);
      tx = s.beginTransaction(this.options.partition);
      const previous = this.prepared.get(store);
      if (previous !== undefined) tx.continueFrom(previous, this.preparedFlushed);
      this.transactions.set(store, tx);
      if (this.inGuardedRecord) tx.setSavepoint();
    }
    return tx;
  }

  /**
   * Process one batch of this partition's records, in offset order. `eager`: reads the
   * fields of strict formats before the pipeline runs, so a record that does not
   * deserialize meets the error policy even when the pipeline never reads it.
   */
  async process(records: readonly InputRecord[], eager?: EagerDecoder): Promise<void> {
    await this.preload(records);
    if (this.windows.length > 0) {
      const prefixes: Uint8Array[] = [];
      for (const record of records) if (record.rawKey !== null) prefixes.push(record.rawKey);
      await Promise.all(this.windows.map((w) => this.windowedTransaction(w.operator.storeName).preload(prefixes)));
    }
    const { pipeline } = this.options;
    // Under skip and dead-letter a failed record must leave no state and no outputs behind.
    const guarded = this.options.errorPolicy !== 'stop';
    for (const record of records) {
      const context = this.contextFor(record);
      if (guarded) this.setSavepoints();
      try {
        if (eager !== undefined) eager(record);
        const result = pipeline.process(record, context);
        if (result !== undefined) await result;
        if (this.windows.length > 0 && record.rawKey !== null) await this.feedWindows(record);
        if (guarded) this.endSavepoints(false);
      } catch (error) {
        if (guarded) this.endSavepoints(true);
        this.handleError(record, error);
      }
      this.processed[record.topic] = record.offset;
    }
  }

  private setSavepoints(): void {
    this.inGuardedRecord = true;
    for (const tx of this.transactions.values()) tx.setSavepoint();
    this.options.outputs.setSavepoint();
  }

  private endSavepoints(rollback: boolean): void {
    this.inGuardedRecord = false;
    for (const tx of this.transactions.values()) {
      if (rollback) tx.rollbackToSavepoint();
      else tx.releaseSavepoint();
    }
    if (rollback) this.options.outputs.rollbackToSavepoint();
    else this.options.outputs.releaseSavepoint();
  }

  private timestampedTransaction(store: string): TimestampedTransaction {
    let timestamped = this.timestampedTransactions.get(store);
    if (timestamped === undefined) {
      const declaration = this.options.pipeline.timestampedStores?.[store];
      if (declaration === undefined) throw new UnknownStoreError(store, Object.keys(this.options.pipeline.timestampedStores ?? {}));
      timestamped = new TimestampedTransaction(this.transaction(store), {
        graceMs: declaration.graceMs ?? DEFAULT_TIMESTAMPED_GRACE_MS,
        keepDuplicates: declaration.keepDuplicates ?? false,
      });
      this.timestampedTransactions.set(store, timestamped);
    }
    return timestamped;
  }

  private windowedTransaction(store: string): WindowedTransaction {
    let windowed = this.windowedTransactions.get(store);
    if (windowed === undefined) {
      windowed = new WindowedTransaction(this.transaction(store));
      this.windowedTransactions.set(store, windowed);
    }
    return windowed;
  }

  /** Runs the record through every declared window and queues their results. */
  private async feedWindows(record: InputRecord): Promise<void> {
    // Window bounds are the timestamp plus durations, stored as 64-bit keys: a timestamp
    // past year 9999 has no room for them (a Kafka topic can hold one).
    if (!isSaneTimestamp(record.timestamp)) throw new RecordTimestampOutOfRangeError(record.timestamp);
    const input = {
      prefix: record.rawKey!,
      key: record.key,
      value: record.value,
      timestamp: record.timestamp,
      headers: record.headers,
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
    };
    for (const window of this.windows) {
      const output = await window.operator.process(this.windowedTransaction(window.operator.storeName), input);
      if (window.to === undefined) continue;
      for (const result of window.emit === 'final' ? output.expired : output.updated) {
        this.options.outputs.add(window.to, result.prefix, this.formats.format(window.to, 'value').serialize(result.payload), NO_HEADERS, result.start);
      }
    }
  }

  private async preload(records: readonly InputRecord[]): Promise<void> {
    const declarations = this.options.pipeline.stores ?? {};
    const loads: Promise<void>[] = [];
    for (const [store, declaration] of Object.entries(declarations)) {
      const preload = declaration.preload;
      if (preload === undefined) continue;
      const keys: Uint8Array[] = [];
      for (const record of records) {
        const stateKeys = typeof preload === 'function' ? preload(record) : preload;
        const prefix = record.rawKey ?? EMPTY;
        for (const k of stateKeys) keys.push(joinPrefixedKey(prefix, encodeUserKey(k)));
      }
      if (keys.length > 0) loads.push(this.transaction(store).preload(keys));
    }
    await Promise.all(loads);
  }

  private contextFor(record: InputRecord): ProcessingContext {
    const prefix = record.rawKey ?? EMPTY;
    return {
      state: (store?: string): KeyValueState => {
        const name = store ?? this.defaultStore;
        if (name === undefined) throw new UnknownStoreError(store ?? '(none given)', [...this.options.stores.keys()]);
        return new StateView(this.transaction(name), prefix, record.timestamp) as unknown as KeyValueState;
      },
      timestamped: (store: string): TimestampedState => {
        const timestamped = this.timestampedTransaction(store);
        return {
          set: (timestamp, value) => timestamped.setForTimestamp(timestamp, value, prefix),
          getLatest: async <T extends JsonValue>(timestamp: number) => (await timestamped.getLatest(timestamp, prefix)) as T | undefined,
          getInterval: async <T extends JsonValue>(start: number, end: number) => (await timestamped.getInterval(start, end, prefix)) as T[],
        };
      },
      emit: (topic: string, output: OutputRecord): void => {
        if (!this.options.outputTopics.has(topic)) throw new UnknownOutputTopicError(topic, [...this.options.outputTopics]);
        this.addOutput(topic, output, record);
      },
    };
  }

  private handleError(record: InputRecord, error: unknown): void {
    switch (this.options.errorPolicy) {
      case 'stop':
        throw new RecordProcessingError(record, error);
      case 'skip':
        this.options.onSkipped?.(record, error);
        return;
      case 'dead-letter': {
        const message = error instanceof Error ? error.message : String(error);
        // The original bytes: a dead letter can be replayed as it was.
        this.options.outputs.add(
          this.options.deadLetterTopic!,
          record.rawKey,
          rawValueOf(record),
          [
            ...Object.entries(record.headers).map(([key, value]) => ({ key, value: encoder.encode(value) })),
            { key: 'weir.error', value: encoder.encode(message) },
            { key: 'weir.format', value: encoder.encode(formatNamesOf(record)) },
            { key: 'weir.source', value: encoder.encode(`${record.topic}[${record.partition}]@${record.offset}`) },
          ],
          record.timestamp,
        );
        this.options.onSkipped?.(record, error);
      }
    }
  }

  /**
   * Prepare every open transaction; returns one changelog batch per store with changes
   * and the processed offsets. Outputs are the worker's (see OutputBatches).
   */
  async prepare(): Promise<{ changelog: ChangelogBatch[]; changelogRecords: number; processed: Record<string, number> }> {
    // A second prepare before the first checkpoint is flushed would replace transactions
    // that still have to be flushed with ones holding uncommitted records.
    if (this.prepared.size > 0) throw new Error(`partition ${this.options.partition}: prepare before the previous checkpoint was flushed`);
    const processed = { ...this.processed };
    const changelog: ChangelogBatch[] = [];
    let changelogRecords = 0;
    const now = Date.now();
    for (const [store, tx] of this.transactions) {
      this.windowedTransactions.get(store)?.writeBack();
      await this.timestampedTransactions.get(store)?.expire();
      const records = await tx.prepare(processed);
      const topic = this.options.changelogTopics[store];
      if (topic === undefined || records.length === 0) continue;
      const builder = new RecordBatchBuilder(records.length * 64);
      for (const r of records) builder.add(now, r.key, r.value, r.headers);
      changelog.push({ store, topic, partition: this.options.partition, count: records.length, buffer: builder.finishTransferable() });
      changelogRecords += records.length;
    }
    // The next records go into fresh transactions continuing these (see `transaction`).
    this.prepared = this.transactions;
    this.preparedFlushed = new Promise<void>((resolve) => (this.markPreparedFlushed = resolve));
    this.startCheckpoint();
    return { changelog, changelogRecords, processed };
  }

  /** Write the prepared transactions with their delivered changelog offsets. */
  async flush(changelogOffsets: ReadonlyMap<string, number>): Promise<void> {
    try {
      for (const [store, tx] of this.prepared) await tx.flush(changelogOffsets.get(store));
    } finally {
      this.prepared = new Map();
      this.markPreparedFlushed();
    }
  }

  /** Forget all unwritten work: prepared and current transactions and offsets. */
  reset(): void {
    this.prepared = new Map();
    this.markPreparedFlushed();
    this.startCheckpoint();
  }

  /** Fresh per-checkpoint state: transactions, their views and the processed offsets. */
  private startCheckpoint(): void {
    this.transactions = new Map();
    this.windowedTransactions = new Map();
    this.timestampedTransactions = new Map();
    this.processed = {};
    this.windowsClosed = false;
  }

  private addOutput(topic: string, output: OutputRecord, input: InputRecord): void {
    if (output.timestamp !== undefined && !isSaneTimestamp(output.timestamp)) {
      throw new InvalidOutputTimestampError(topic, output.timestamp);
    }
    const headers: RecordHeader[] =
      output.headers === undefined ? NO_HEADERS : Object.entries(output.headers).map(([key, value]) => ({ key, value: encoder.encode(value) }));
    const formats = this.formats.of(topic);
    // Re-emitting the input's key is the common case: reuse its bytes instead of re-encoding
    // when the output topic writes keys as the input topic has them.
    const key =
      output.key === undefined || output.key === null
        ? null
        : output.key === input.key && input.rawKey !== null && formats.key.sameEncodingAs(this.formats.format(input.topic, 'key'))
          ? input.rawKey
          : formats.key.serialize(output.key);
    // JSON writes a null value as `null` (as before formats); other formats write a tombstone.
    const value = output.value === null && formats.value.name !== 'json' ? null : formats.value.serialize(output.value);
    this.options.outputs.add(topic, key, value, headers, output.timestamp ?? input.timestamp);
  }
}

const NO_HEADERS: RecordHeader[] = [];
