/**
 * One worker thread's share of the job: the store partitions of the partitions it owns,
 * their processors, and the control calls the coordinator makes (`WorkerControl`).
 * Data batches are processed strictly in arrival order on one queue.
 */
import { threadCpuMillis } from '../shared/thread-cpu.js';
import type {
  ChangelogBatch,
  ClosedWindows,
  DataMessage,
  DeliveredChangelogOffset,
  EncodedBatch,
  PreparedPartition,
  PreparedWork,
  QueriedEntry,
  QueriedWindow,
  RoutedBatchSet,
  StateQuery,
  StorePartitionInfo,
  WorkerControl,
  WorkerInit,
  WorkerStats,
} from '../shared/protocol/worker-protocol.js';
import { decodeBatchSet } from '../shared/protocol/record-batch.js';
import { eagerDecoderFor, inputRecordsOf, prepareRecords } from './record-decoding.js';
import { TopicFormats } from '../shared/serialization/topic-formats.js';
import { OutputBatches } from './output-batches.js';
import type { PipelineDefinition } from '../shared/pipeline/pipeline-definition.js';
import { loadPipeline } from '../shared/pipeline/pipeline-loader.js';
import { storeNames, windowStoreNames } from '../shared/pipeline/pipeline-definition.js';
import { queryStorePartition, queryWindowPartition } from './state-query.js';
import { WindowAggregationRunner } from './windows/index.js';
import type { WindowAggregation } from '../shared/pipeline/windows.js';
import { KeyValueStore } from './state/index.js';
import { PartitionProcessor } from './partition-processor.js';
import { encodeChangelog, type PreparedChangelog } from './partition-checkpoint.js';
import { CheckpointAfterFailureError, RecordProcessingError } from '../shared/errors/runtime-errors.js';
import { InternalInvariantError } from '../shared/errors/runtime-errors.js';
import { weirLog } from '../shared/logging/weir-log.js';
import { EventLoopSlices } from './event-loop-slices.js';
import { ControlCallWatch } from '../shared/protocol/control-calls.js';

/** While a control call waits, processing time after which the worker's event loop gets a turn again. */
export const PROCESSING_SLICE_MS = 1;
/** Changelog encoding time after which a prepare lets the worker's event loop (and its batches) run. */
const PREPARE_SLICE_MS = 2;

/** A partition's part of a cut checkpoint: its {@link PreparedPartition}, changelog not yet encoded. */
type CutPartition = Omit<PreparedPartition, 'changelog'> & { readonly changelog: readonly PreparedChangelog[] };

/** A checkpoint cut by `prepare`: the {@link PreparedWork} to be, changelogs not yet encoded. */
interface PreparedCut extends Omit<PreparedWork, 'partitions'> {
  readonly partitions: readonly CutPartition[];
}

export class JobWorker implements WorkerControl {
  private readonly processors = new Map<number, PartitionProcessor>();
  private queue: Promise<void> = Promise.resolve();
  private failed = false;
  private recordsProcessed = 0;
  private recordsRecovered = 0;
  private recordsEmitted = 0;
  private recordsFailed = 0;
  private readonly outputs: OutputBatches;
  /** Names of the pipeline's window stores (a query decodes their keys as windows). */
  private readonly windowStores: ReadonlySet<string>;
  /** Window aggregations by store name, for window queries. */
  private readonly windowAggregations = new Map<string, WindowAggregationRunner>();
  /** Turns for the event loop while control calls (queries) wait. */
  private readonly slices: EventLoopSlices;
  private closedResolve!: () => void;
  /** Resolves when `close` has finished. */
  readonly closed = new Promise<void>((resolve) => (this.closedResolve = resolve));

  private constructor(
    private readonly init: WorkerInit,
    private readonly pipeline: PipelineDefinition,
    private readonly stores: ReadonlyMap<string, KeyValueStore>,
    private readonly post: (message: DataMessage, transfer?: ArrayBuffer[]) => void,
    private readonly formats: TopicFormats,
    controlCalls: SharedArrayBuffer | undefined,
  ) {
    this.outputs = new OutputBatches(init.topicPartitions);
    this.windowStores = new Set(windowStoreNames(pipeline).values());
    this.slices = new EventLoopSlices(PROCESSING_SLICE_MS, controlCalls === undefined ? undefined : new ControlCallWatch(controlCalls));
  }

  /** @param controlCalls the coordinator's count of control calls in flight (shared/protocol/control-calls.ts). */
  static async start(
    init: WorkerInit,
    post: (message: DataMessage, transfer?: ArrayBuffer[]) => void,
    controlCalls?: SharedArrayBuffer,
  ): Promise<JobWorker> {
    const pipeline = await loadPipeline(init.pipelinePath);
    const stores = new Map<string, KeyValueStore>();
    for (const name of storeNames(pipeline)) {
      stores.set(
        name,
        new KeyValueStore({
          name,
          streamId: init.streamId,
          baseDir: init.stateBaseDir,
          hasChangelog: init.changelogEnabled,
          options: {
            openMaxRetries: init.openMaxRetries,
            openRetryBackoffMs: init.openRetryBackoffMs,
            onCorruptedRecreate: init.onCorruptedRecreate,
            ttlMaxEvictionsPerCheckpoint: init.ttlMaxEvictionsPerCheckpoint,
          },
        }),
      );
    }
    // Output schemas are registered (or looked up) here, once, so emitting stays synchronous.
    const formats =
      init.formats === undefined
        ? TopicFormats.json()
        : await TopicFormats.create({ read: init.formats.input, write: init.formats.output, schemaRegistry: init.schemaRegistry });
    return new JobWorker(init, pipeline, stores, post, formats, controlCalls);
  }

  /** Queue one data message: a batch of one partition's records, or a checkpoint's prepare. */
  receive(message: DataMessage): void {
    if (message.type === 'prepare') {
      const { id, partitions } = message;
      // The checkpoint is cut in data-port order; its changelog is encoded beside the queue.
      const prepared = this.queue.then(() => this.prepare(partitions === undefined ? undefined : new Set(partitions)));
      this.queue = prepared.then(
        () => undefined,
        () => undefined,
      );
      void this.answerPrepare(id, prepared);
      return;
    }
    if (message.type !== 'records') return;
    const sets = message.sets;
    this.queue = this.queue.then(() => this.processSets(sets));
  }

  /**
   * Processes one `records` message's batch sets in order and reports them with one
   * `processed` message, whose outputs are every set's: a destination partition gets one
   * batch per message, not one per set (fewer, larger batches to post and append).
   */
  private async processSets(sets: readonly RoutedBatchSet[]): Promise<void> {
    let count = 0;
    let bytes = 0;
    for (const set of sets) {
      count += set.count;
      bytes += set.buffer.byteLength;
      await this.processBatch(set.topic, set.partition, set.buffer);
    }
    this.postProcessed(sets.length, count, bytes, this.init.streamOutputs && !this.failed ? this.drainOutputs() : []);
  }

  private async processBatch(topic: string, partition: number, buffer: ArrayBuffer): Promise<void> {
    const processor = this.processors.get(partition);
    // After a failure (or for a revoked partition) nothing more is processed; the
    // coordinator is stopping and these records stay uncommitted.
    if (this.failed || processor === undefined) return;
    const formats = this.formats.of(topic);
    const records = inputRecordsOf(buffer, topic, partition, formats);
    try {
      await prepareRecords(records, formats);
      await processor.process(records, eagerDecoderFor(formats));
      this.recordsProcessed += records.length;
    } catch (error) {
      this.failed = true;
      const record = error instanceof RecordProcessingError ? error.record : undefined;
      const cause = error instanceof RecordProcessingError ? error.cause : error;
      this.post({
        type: 'failed',
        partition,
        topic: record?.topic ?? records[0]?.topic ?? '',
        offset: record?.offset ?? records[0]?.offset ?? -1,
        message: cause instanceof Error ? cause.message : String(cause),
        ...(cause instanceof Error && cause.stack !== undefined ? { stack: cause.stack } : {}),
      });
    }
  }

  private drainOutputs(): EncodedBatch[] {
    this.recordsEmitted += this.outputs.count;
    return this.outputs.drain();
  }

  /** Bytes held for the next checkpoint: outputs waiting for it and the transactions' caches. */
  private pendingCheckpointBytes(): number {
    let bytes = this.outputs.byteLength;
    for (const processor of this.processors.values()) bytes += processor.heldStateBytes;
    return bytes;
  }

  private postProcessed(sets: number, count: number, bytes: number, outputs: EncodedBatch[]): void {
    this.post(
      { type: 'processed', sets, count, bytes, outputs, pendingBytes: this.pendingCheckpointBytes() },
      outputs.map((o) => o.buffer),
    );
  }

  async assign(partition: number, options: { readonly destroyLocalState?: boolean } = {}): Promise<StorePartitionInfo[]> {
    const infos: StorePartitionInfo[] = [];
    for (const [name, store] of this.stores) {
      if (options.destroyLocalState === true) await store.destroyPartition(partition);
      const storePartition = await store.assignPartition(partition);
      infos.push({ store: name, changelogOffset: storePartition.getChangelogOffset() });
    }
    this.processors.set(
      partition,
      new PartitionProcessor({
        partition,
        pipeline: this.pipeline,
        stores: this.stores,
        changelogTopics: this.init.changelogTopics,
        outputTopics: new Set(this.init.outputTopics),
        outputs: this.outputs,
        formats: this.formats,
        yieldPoint: () => this.slices.due(),
        errorPolicy: this.init.errorPolicy,
        ...(this.init.deadLetterTopic !== undefined ? { deadLetterTopic: this.init.deadLetterTopic } : {}),
        onSkipped: (record, error) => {
          this.recordsFailed += 1;
          const message = error instanceof Error ? error.message : String(error);
          weirLog.warn(`worker ${this.init.workerId}: skipped ${record.topic}[${record.partition}] offset ${record.offset}: ${message}`, {
            topic: record.topic,
            partition: record.partition,
            worker: this.init.workerId,
          });
        },
      }),
    );
    return infos;
  }

  async recover(partition: number, store: string, chunk: ArrayBuffer, committed: Readonly<Record<string, number>>): Promise<void> {
    const s = this.stores.get(store);
    if (s === undefined) throw new InternalInvariantError(`worker ${this.init.workerId}: unknown store ${store}`);
    const records = decodeBatchSet(chunk, '', partition);
    const storePartition = s.partitions.get(partition);
    if (storePartition === undefined) throw new InternalInvariantError(`worker ${this.init.workerId}: partition ${partition} of store ${store} is not assigned`);
    await storePartition.recoverFromChangelog(records, committed);
    this.recordsRecovered += records.length;
  }

  async revoke(partition: number): Promise<void> {
    await this.queue;
    this.processors.delete(partition);
    for (const store of this.stores.values()) await store.revokePartition(partition);
  }

  /**
   * Encodes a cut checkpoint's changelog and answers on the data port. Encoding is the
   * bulk of a prepare (a few µs per changed key, a whole checkpoint's worth at once): it
   * runs one changelog batch (≤ CHANGELOG_BATCH_RECORDS records) at a time, giving the
   * event loop a turn between them when a slice is used up, so
   * batches routed meanwhile are processed instead of waiting for all of it. The prepared
   * transactions no longer change, and 'prepared' needs no order against later batches'
   * 'processed' (their outputs are streamed, or held for the next checkpoint).
   */
  private async answerPrepare(id: number, prepared: Promise<PreparedCut>): Promise<void> {
    try {
      const cut = await prepared;
      const timestamp = Date.now();
      const partitions: PreparedPartition[] = [];
      const slices = new EventLoopSlices(PREPARE_SLICE_MS);
      for (const p of cut.partitions) {
        const changelog: ChangelogBatch[] = [];
        for (const store of p.changelog) {
          for (const batch of encodeChangelog(store, timestamp)) {
            changelog.push(batch);
            await slices.due();
          }
        }
        partitions.push({ partition: p.partition, processed: p.processed, changelog, changelogRecords: p.changelogRecords });
      }
      const work: PreparedWork = { partitions, outputs: cut.outputs, outputRecords: cut.outputRecords };
      const buffers = [...work.partitions.flatMap((p) => p.changelog.map((b) => b.buffer)), ...work.outputs.map((b) => b.buffer)];
      this.post({ type: 'prepared', id, work }, buffers);
    } catch (error) {
      this.post({
        type: 'prepare-failed',
        id,
        message: error instanceof Error ? error.message : String(error),
        ...(error instanceof Error && error.stack !== undefined ? { stack: error.stack } : {}),
      });
    }
  }

  /**
   * Cuts the checkpoint, in data-port order: every partition with work (of `only`, when
   * given) prepares its transactions.
   */
  private async prepare(only?: ReadonlySet<number>): Promise<PreparedCut> {
    // A failed record may have written part of its state before throwing; under the stop
    // policy none of the open transactions may reach a checkpoint (the run is failing).
    if (this.failed) throw new CheckpointAfterFailureError(this.init.workerId);
    const partitions: CutPartition[] = [];
    for (const processor of this.processors.values()) {
      if (!processor.hasWork || (only !== undefined && !only.has(processor.partition))) continue;
      const result = await processor.prepare();
      partitions.push({
        partition: processor.partition,
        processed: result.processed,
        changelog: result.changelog,
        changelogRecords: result.changelogRecords,
      });
    }
    // Held outputs (exactly-once) go with the checkpoint; streamed ones already went.
    const outputRecords = this.outputs.count;
    const outputs = this.drainOutputs();
    return { partitions, outputs, outputRecords };
  }

  /** Closes every open window of every owned partition, after the batches already queued. */
  closeWindows(): Promise<ClosedWindows> {
    const done = this.queue.then(async (): Promise<ClosedWindows> => {
      if (this.failed) return { windows: 0, outputs: [] };
      let windows = 0;
      for (const processor of this.processors.values()) windows += await processor.closeWindows();
      // Exactly-once holds the results for the checkpoint, like every other output.
      return { windows, outputs: this.init.streamOutputs ? this.drainOutputs() : [] };
    });
    this.queue = done.then(
      () => undefined,
      () => undefined,
    );
    return done;
  }

  async flush(delivered: readonly DeliveredChangelogOffset[]): Promise<void> {
    for (const processor of this.processors.values()) {
      if (!processor.hasPrepared) continue;
      const offsets = new Map(delivered.filter((d) => d.partition === processor.partition).map((d) => [d.store, d.offset]));
      await processor.flush(offsets);
    }
  }

  /**
   * Drops every transaction, after the batches already queued: a batch being processed
   * when the call arrives (the worker answers control calls between slices of a batch)
   * would otherwise lose the keys it preloaded into the transaction under way.
   */
  abort(): Promise<void> {
    const done = this.queue.then(() => {
      for (const processor of this.processors.values()) processor.reset();
      this.outputs.clear();
    });
    this.queue = done;
    return done;
  }

  async stats(): Promise<WorkerStats> {
    return {
      workerId: this.init.workerId,
      recordsProcessed: this.recordsProcessed,
      recordsRecovered: this.recordsRecovered,
      recordsEmitted: this.recordsEmitted,
      recordsFailed: this.recordsFailed,
      busyMillis: threadCpuMillis().millis,
    };
  }

  async query(query: StateQuery): Promise<QueriedEntry[] | undefined> {
    const partition = this.stores.get(query.store)?.partitions.get(query.partition);
    if (partition === undefined || partition.closed) return undefined;
    return this.slices.answering(() => queryStorePartition(partition, query, this.windowStores.has(query.store)));
  }

  async queryWindows(query: StateQuery): Promise<QueriedWindow[] | 'not-a-window-store' | undefined> {
    const aggregation = this.windowAggregation(query.store);
    if (aggregation === undefined) return 'not-a-window-store';
    const partition = this.stores.get(query.store)?.partitions.get(query.partition);
    if (partition === undefined || partition.closed) return undefined;
    return this.slices.answering(() => queryWindowPartition(partition, query, aggregation));
  }

  /** The aggregation of the window whose store is `store` (undefined: not a window store), built once. */
  private windowAggregation(store: string): WindowAggregationRunner | undefined {
    let runner = this.windowAggregations.get(store);
    if (runner === undefined) {
      for (const [name, storeName] of windowStoreNames(this.pipeline)) {
        if (storeName !== store) continue;
        runner = new WindowAggregationRunner(this.pipeline.windows![name]!.aggregate as WindowAggregation<never>);
        this.windowAggregations.set(store, runner);
      }
    }
    return runner;
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    this.processors.clear();
    for (const store of this.stores.values()) await store.close();
    this.formats.close();
    this.closedResolve();
  }
}
