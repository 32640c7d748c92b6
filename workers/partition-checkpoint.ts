/**
 * The checkpoint state of one worker partition: the open transaction per store (with its
 * windowed and timestamped views), the processed source offsets, and the transactions of
 * the last prepared checkpoint until `flush` writes them.
 *
 * A checkpoint goes prepare → flush. After `prepare` processing goes on at once in fresh
 * transactions that continue the prepared ones (they read through them until they are
 * flushed); `reset` forgets everything not yet written.
 */
import type { ChangelogBatch } from '../shared/protocol/worker-protocol.js';
import type { TimestampedStoreDeclaration } from '../shared/pipeline/pipeline-definition.js';
import { UnknownStoreError } from '../shared/errors/runtime-errors.js';
import type { KeyValueStore, PartitionTransaction, TransactionChangelog } from './state/index.js';
import { TimestampedTransaction } from './state/timestamped-transaction.js';
import { WindowedTransaction } from './state/windowed-transaction.js';
import { InternalInvariantError } from '../shared/errors/runtime-errors.js';

/** Default retention of timestamped stores (Quix Streams' join default: 7 days). */
const DEFAULT_TIMESTAMPED_GRACE_MS = 7 * 24 * 3600 * 1000;

export interface PartitionCheckpointOptions {
  readonly partition: number;
  readonly stores: ReadonlyMap<string, KeyValueStore>;
  readonly changelogTopics: Readonly<Record<string, string>>;
  readonly timestampedStores?: Readonly<Record<string, TimestampedStoreDeclaration>>;
}

/** One store's changelog of a prepared checkpoint, not yet encoded. */
export interface PreparedChangelog {
  readonly store: string;
  readonly topic: string;
  readonly partition: number;
  readonly changelog: TransactionChangelog;
}

/**
 * What `prepare` hands over: the changelog per store (encoded by {@link encodeChangelog},
 * which may run later: the prepared transactions no longer change) and the processed
 * offsets.
 */
export interface PreparedCheckpoint {
  readonly changelog: PreparedChangelog[];
  readonly changelogRecords: number;
  readonly processed: Record<string, number>;
}

/**
 * Encodes one store's prepared changelog as batches stamped `timestamp`, one at a time
 * (the caller gives its event loop a turn between them). The flush stores the last
 * batch's offset: batches are appended in order.
 */
export function* encodeChangelog(prepared: PreparedChangelog, timestamp: number): Generator<ChangelogBatch> {
  for (const { buffer, count } of prepared.changelog.encodeBatches(timestamp)) {
    yield { store: prepared.store, topic: prepared.topic, partition: prepared.partition, count, buffer };
  }
}

export class PartitionCheckpoint {
  private transactions = new Map<string, PartitionTransaction>();
  /** One windowed view per window store and checkpoint (it caches the windows it has read). */
  private windowedTransactions = new Map<string, WindowedTransaction>();
  /** One timestamped view per timestamped store and checkpoint (it runs retention at prepare). */
  private timestampedTransactions = new Map<string, TimestampedTransaction>();
  private processed: Record<string, number> = {};
  /** State changed without processed records (windows closed at end of input). */
  private stateChanged = false;
  /**
   * Transactions of the last prepared checkpoint, until its changelog is delivered and
   * `flush` writes them. Processing goes on meanwhile in transactions that continue them.
   */
  private prepared = new Map<string, PartitionTransaction>();
  private preparedFlushed: Promise<void> = Promise.resolve();
  private markPreparedFlushed: () => void = () => undefined;
  /** A record is being processed under savepoints: transactions opened now get one too. */
  private inSavepoint = false;

  constructor(private readonly options: PartitionCheckpointOptions) {}

  /** True when something was processed (or state changed) since the last checkpoint. */
  get hasWork(): boolean {
    return this.stateChanged || Object.keys(this.processed).length > 0;
  }

  /**
   * Estimated bytes the open transactions hold until the next checkpoint (their write and
   * read caches); the prepared ones are freed by the checkpoint already under way.
   */
  get heldBytes(): number {
    let bytes = 0;
    for (const tx of this.transactions.values()) bytes += tx.heldBytes;
    return bytes;
  }

  /** True while prepared transactions wait for `flush`. */
  get hasPrepared(): boolean {
    return this.prepared.size > 0;
  }

  /** Records that `offset` of `topic` was processed in this checkpoint. */
  markProcessed(topic: string, offset: number): void {
    this.processed[topic] = offset;
  }

  /** Records a state change without processed records, so the next checkpoint writes it. */
  markStateChanged(): void {
    this.stateChanged = true;
  }

  /** The open transaction of `store` in this checkpoint (opened, continuing the prepared one, on first use). */
  transaction(store: string): PartitionTransaction {
    let tx = this.transactions.get(store);
    if (tx === undefined) {
      const s = this.options.stores.get(store);
      if (s === undefined) throw new UnknownStoreError(store, [...this.options.stores.keys()]);
      tx = s.beginTransaction(this.options.partition);
      const previous = this.prepared.get(store);
      if (previous !== undefined) tx.continueFrom(previous, this.preparedFlushed);
      this.transactions.set(store, tx);
      if (this.inSavepoint) tx.setSavepoint();
    }
    return tx;
  }

  /** The timestamped view of `store` in this checkpoint. */
  timestampedTransaction(store: string): TimestampedTransaction {
    let timestamped = this.timestampedTransactions.get(store);
    if (timestamped === undefined) {
      const declaration = this.options.timestampedStores?.[store];
      if (declaration === undefined) throw new UnknownStoreError(store, Object.keys(this.options.timestampedStores ?? {}));
      timestamped = new TimestampedTransaction(this.transaction(store), {
        graceMs: declaration.graceMs ?? DEFAULT_TIMESTAMPED_GRACE_MS,
        keepDuplicates: declaration.keepDuplicates ?? false,
      });
      this.timestampedTransactions.set(store, timestamped);
    }
    return timestamped;
  }

  /** The windowed view of `store` in this checkpoint. */
  windowedTransaction(store: string): WindowedTransaction {
    let windowed = this.windowedTransactions.get(store);
    if (windowed === undefined) {
      windowed = new WindowedTransaction(this.transaction(store));
      this.windowedTransactions.set(store, windowed);
      if (this.inSavepoint) windowed.setSavepoint();
    }
    return windowed;
  }

  /** Sets a savepoint in every open transaction and in those opened until `endSavepoints`. */
  setSavepoints(): void {
    // Held window clocks go to their transactions first: a rollback must not undo them.
    for (const windowed of this.windowedTransactions.values()) windowed.setSavepoint();
    this.inSavepoint = true;
    for (const tx of this.transactions.values()) tx.setSavepoint();
  }

  /** Rolls back to (or releases) the savepoints of `setSavepoints`. */
  endSavepoints(rollback: boolean): void {
    this.inSavepoint = false;
    for (const tx of this.transactions.values()) {
      if (rollback) tx.rollbackToSavepoint();
      else tx.releaseSavepoint();
    }
    for (const windowed of this.windowedTransactions.values()) {
      if (rollback) windowed.rollbackToSavepoint();
      else windowed.releaseSavepoint();
    }
  }

  /**
   * Prepare every open transaction; returns the changelog records per store with changes
   * and the processed offsets. The next records go into fresh transactions continuing these.
   */
  async prepare(): Promise<PreparedCheckpoint> {
    // A second prepare before the first checkpoint is flushed would replace transactions
    // that still have to be flushed with ones holding uncommitted records.
    if (this.prepared.size > 0) throw new InternalInvariantError(`partition ${this.options.partition}: prepare before the previous checkpoint was flushed`);
    const processed = { ...this.processed };
    const changelog: PreparedChangelog[] = [];
    let changelogRecords = 0;
    for (const [store, tx] of this.transactions) {
      this.windowedTransactions.get(store)?.writeBack();
      await this.timestampedTransactions.get(store)?.expire();
      const storeChangelog = await tx.prepare(processed);
      const topic = this.options.changelogTopics[store];
      if (topic === undefined || storeChangelog.length === 0) continue;
      changelog.push({ store, topic, partition: this.options.partition, changelog: storeChangelog });
      changelogRecords += storeChangelog.length;
    }
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
      this.releasePrepared();
    }
  }

  /** Forget all unwritten work: prepared and current transactions and offsets. */
  reset(): void {
    this.releasePrepared();
    this.startCheckpoint();
  }

  /** Drops the prepared transactions and lets the transactions continuing them read on their own. */
  private releasePrepared(): void {
    this.prepared = new Map();
    this.markPreparedFlushed();
  }

  /** Fresh per-checkpoint state: transactions, their views and the processed offsets. */
  private startCheckpoint(): void {
    this.transactions = new Map();
    this.windowedTransactions = new Map();
    this.timestampedTransactions = new Map();
    this.processed = {};
    this.stateChanged = false;
  }
}
