/**
 * Everything one worker does for one partition between two checkpoints: runs the
 * pipeline and the windows against the checkpoint's transactions (PartitionCheckpoint)
 * and emits outputs and dead letters (OutputRecords) under the error policy.
 *
 * A batch is processed in two steps so user code runs synchronously against memory:
 * first every state key the batch will read is loaded with one `getMany` per store,
 * then the pipeline runs record by record.
 */
import type {
  InputRecord,
  JsonValue,
  KeyValueState,
  OutputRecord,
  PipelineDefinition,
  ProcessingContext,
} from '../shared/pipeline/pipeline-definition.js';
import type { ErrorPolicy } from '../shared/protocol/worker-protocol.js';
import { encodeUserKey, joinPrefixedKey } from '../shared/codecs/index.js';
import type { KeyValueStore } from './state/index.js';
import { StateView } from './state/index.js';
import type { EagerDecoder } from './record-decoding.js';
import { TopicFormats } from '../shared/serialization/topic-formats.js';
import type { OutputBatches } from './output-batches.js';
import {
  RecordTimestampOutOfRangeError,
  UnknownOutputTopicError,
  UnknownStoreError,
} from '../shared/errors/runtime-errors.js';
import { isSaneTimestamp } from '../shared/timestamps.js';
import type { EmitMode } from '../shared/pipeline/windows.js';
import { createWindowOperator, RecordWindowInput, type WindowInput, type WindowOperator, type WindowOutput } from './windows/index.js';
import type { ProcessOptions } from './windows/window-operator.js';
import { NO_PROCESSING, type TimestampedState } from '../shared/pipeline/pipeline-definition.js';
import { PartitionCheckpoint, type PreparedCheckpoint } from './partition-checkpoint.js';
import { OutputRecords } from './output-records.js';
import { InternalInvariantError, RecordProcessingError } from '../shared/errors/runtime-errors.js';
import { weirLog } from '../shared/logging/weir-log.js';

const EMPTY = new Uint8Array(0);

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
  /**
   * Asked before each record: a promise to await when the worker's event loop is due a
   * turn (workers/event-loop-slices.ts), so control messages are answered mid-batch.
   */
  readonly yieldPoint?: () => Promise<void> | undefined;
}

/** A declared window as the processor runs it. */
interface ActiveWindow {
  readonly operator: WindowOperator;
  readonly emit: EmitMode;
  readonly to: string | undefined;
  /** Whether its updates are read: only with a destination and `emit: 'current'`. */
  readonly options: ProcessOptions;
}

/** Late-record warnings per processor before they are summarized (a late burst must not flood stderr). */
const MAX_WARNINGS = 20;

export class PartitionProcessor {
  /** Transactions, processed offsets and the prepared checkpoint (see PartitionCheckpoint). */
  private readonly checkpoint: PartitionCheckpoint;
  private readonly output: OutputRecords;
  private readonly defaultStore: string | undefined;
  private readonly windows: ActiveWindow[];
  private warnings = 0;

  private readonly formats: TopicFormats;
  /**
   * The record being processed, which {@link context} acts for: one context serves every
   * record (the loop awaits each record's processing before the next), instead of four
   * objects made per record.
   */
  private current: InputRecord | undefined;
  private readonly context: ProcessingContext = this.processingContext();

  constructor(private readonly options: PartitionProcessorOptions) {
    this.formats = options.formats ?? TopicFormats.json();
    this.checkpoint = new PartitionCheckpoint({
      partition: options.partition,
      stores: options.stores,
      changelogTopics: options.changelogTopics,
      timestampedStores: options.pipeline.timestampedStores,
    });
    this.output = new OutputRecords(options.outputs, this.formats);
    // Window stores are not user state: the default store is the only declared one.
    const names = Object.keys(options.pipeline.stores ?? {});
    this.defaultStore = names.length === 1 ? names[0] : undefined;
    const warn = (message: string): void => this.warn(message);
    this.windows = Object.entries(options.pipeline.windows ?? {}).map(([name, declaration]) => {
      if (declaration.to !== undefined && !options.outputTopics.has(declaration.to)) {
        throw new UnknownOutputTopicError(declaration.to, [...options.outputTopics]);
      }
      const emit = declaration.emit ?? 'final';
      return { operator: createWindowOperator(name, declaration, warn), emit, to: declaration.to, options: { updates: declaration.to !== undefined && emit !== 'final' } };
    });
  }

  private warn(message: string): void {
    this.warnings++;
    if (this.warnings > MAX_WARNINGS) return;
    const sink = this.options.onWarning ?? ((m: string) => weirLog.warn(m, { partition: this.options.partition }));
    sink(this.warnings === MAX_WARNINGS ? `${message} (further warnings of partition ${this.options.partition} suppressed)` : message);
  }

  get partition(): number {
    return this.options.partition;
  }

  /** Estimated bytes of state this partition holds for its next checkpoint. */
  get heldStateBytes(): number {
    return this.checkpoint.heldBytes;
  }

  /** True when something was processed (or windows were closed) since the last checkpoint. */
  get hasWork(): boolean {
    return this.checkpoint.hasWork;
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
      const results = await window.operator.closeAll(this.checkpoint.windowedTransaction(window.operator.storeName));
      closed += results.length;
      if (window.to === undefined || window.emit !== 'final') continue;
      for (const result of results) this.output.windowResult(window.to, result);
    }
    if (this.windows.length > 0) this.checkpoint.markStateChanged();
    return closed;
  }

  /** True while prepared transactions wait for `flush`. */
  get hasPrepared(): boolean {
    return this.checkpoint.hasPrepared;
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
      await Promise.all(this.windows.map((w) => this.checkpoint.windowedTransaction(w.operator.storeName).preload(prefixes)));
    }
    const { pipeline } = this.options;
    // Under skip and dead-letter a failed record must leave no state and no outputs behind.
    const guarded = this.options.errorPolicy !== 'stop';
    const yieldPoint = this.options.yieldPoint;
    // A windows-only pipeline: nothing to call per record but the windows.
    const processes = pipeline.process !== NO_PROCESSING;
    // An index loop: `for…of` across the awaits below made an iterator result per record.
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      const pause = yieldPoint?.();
      if (pause !== undefined) await pause;
      if (guarded) this.setSavepoints();
      try {
        if (eager !== undefined) eager(record);
        this.current = record;
        const result = processes ? pipeline.process(record, this.context) : undefined;
        if (result !== undefined) await result;
        if (this.windows.length > 0 && record.rawKey !== null) {
          const fed = this.feedWindows(record);
          if (fed !== undefined) await fed;
        }
        if (guarded) this.endSavepoints(false);
      } catch (error) {
        if (guarded) this.endSavepoints(true);
        this.handleError(record, error);
      }
      this.checkpoint.markProcessed(record.topic, record.offset);
    }
  }

  private setSavepoints(): void {
    this.checkpoint.setSavepoints();
    this.options.outputs.setSavepoint();
  }

  private endSavepoints(rollback: boolean): void {
    this.checkpoint.endSavepoints(rollback);
    if (rollback) this.options.outputs.rollbackToSavepoint();
    else this.options.outputs.releaseSavepoint();
  }

  /**
   * Runs the record through every declared window and queues their results; a promise
   * only when some window's operator needs one.
   */
  private feedWindows(record: InputRecord): Promise<void> | undefined {
    // Window bounds are the timestamp plus durations, stored as 64-bit keys: a timestamp
    // past year 9999 has no room for them (a Kafka topic can hold one).
    if (!isSaneTimestamp(record.timestamp)) throw new RecordTimestampOutOfRangeError(record.timestamp);
    const input = new RecordWindowInput(record.rawKey!, record);
    for (let i = 0; i < this.windows.length; i++) {
      const output = this.feedWindow(this.windows[i]!, input);
      if (output instanceof Promise) return this.feedWindowsFrom(i, output, input);
      this.emitWindowOutput(this.windows[i]!, output);
    }
    return undefined;
  }

  /** {@link feedWindows} once window `i` answered with a promise: the rest in order, awaited. */
  private async feedWindowsFrom(i: number, pending: Promise<WindowOutput>, input: WindowInput): Promise<void> {
    this.emitWindowOutput(this.windows[i]!, await pending);
    for (let j = i + 1; j < this.windows.length; j++) this.emitWindowOutput(this.windows[j]!, await this.feedWindow(this.windows[j]!, input));
  }

  private feedWindow(window: ActiveWindow, input: WindowInput): WindowOutput | Promise<WindowOutput> {
    return window.operator.process(this.checkpoint.windowedTransaction(window.operator.storeName), input, window.options);
  }

  private emitWindowOutput(window: ActiveWindow, output: WindowOutput): void {
    if (window.to === undefined) return;
    for (const result of window.emit === 'final' ? output.expired : output.updated) this.output.windowResult(window.to, result);
  }

  private async preload(records: readonly InputRecord[]): Promise<void> {
    const declarations = this.options.pipeline.stores ?? {};
    const loads: Promise<void>[] = [];
    for (const [store, declaration] of Object.entries(declarations)) {
      const preload = declaration.preload;
      if (preload === undefined) continue;
      const keys: Uint8Array[] = [];
      if (typeof preload === 'function') {
        for (const record of records) for (const k of preload(record)) keys.push(joinPrefixedKey(record.rawKey ?? EMPTY, encodeUserKey(k)));
      } else {
        // A fixed list (the common case) is encoded once per batch, not per record.
        const fixed = preload.map((k) => encodeUserKey(k));
        for (const record of records) for (const k of fixed) keys.push(joinPrefixedKey(record.rawKey ?? EMPTY, k));
      }
      if (keys.length > 0) loads.push(this.checkpoint.transaction(store).preload(keys));
    }
    await Promise.all(loads);
  }

  /** The record the context acts for (the one being processed). */
  private record(): InputRecord {
    if (this.current === undefined) throw new InternalInvariantError('the processing context was used before its first record');
    return this.current;
  }

  private processingContext(): ProcessingContext {
    return {
      state: (store?: string): KeyValueState => {
        const name = store ?? this.defaultStore;
        if (name === undefined) throw new UnknownStoreError(store ?? '(none given)', [...this.options.stores.keys()]);
        const record = this.record();
        return new StateView(this.checkpoint.transaction(name), record.rawKey ?? EMPTY, record.timestamp) as unknown as KeyValueState;
      },
      timestamped: (store: string): TimestampedState => {
        const timestamped = this.checkpoint.timestampedTransaction(store);
        const prefix = this.record().rawKey ?? EMPTY;
        return {
          set: (timestamp, value) => timestamped.setForTimestamp(timestamp, value, prefix),
          getLatest: async <T extends JsonValue>(timestamp: number) => (await timestamped.getLatest(timestamp, prefix)) as T | undefined,
          getInterval: async <T extends JsonValue>(start: number, end: number) => (await timestamped.getInterval(start, end, prefix)) as T[],
        };
      },
      emit: (topic: string, output: OutputRecord): void => {
        if (!this.options.outputTopics.has(topic)) throw new UnknownOutputTopicError(topic, [...this.options.outputTopics]);
        this.output.emit(topic, output, this.record());
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
        this.output.deadLetter(this.options.deadLetterTopic!, record, error);
        this.options.onSkipped?.(record, error);
      }
    }
  }

  /**
   * Prepare every open transaction; returns the changelog records per store with changes
   * (encoded later, see `encodeChangelog`) and the processed offsets. Outputs are the
   * worker's (see OutputBatches).
   */
  prepare(): Promise<PreparedCheckpoint> {
    return this.checkpoint.prepare();
  }

  /** Write the prepared transactions with their delivered changelog offsets. */
  flush(changelogOffsets: ReadonlyMap<string, number>): Promise<void> {
    return this.checkpoint.flush(changelogOffsets);
  }

  /** Forget all unwritten work: prepared and current transactions and offsets. */
  reset(): void {
    this.checkpoint.reset();
  }
}
