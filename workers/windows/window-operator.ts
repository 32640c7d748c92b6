/** What every window operator consumes and produces. */
import type { WindowedTransaction } from '../state/windowed-transaction.js';
import type { InputRecord } from '../../shared/pipeline/pipeline-definition.js';

/** One input record as a window sees it. */
export interface WindowInput {
  /** Serialized message key (the state prefix). */
  readonly prefix: Uint8Array;
  /** Decoded message key (for callbacks). */
  readonly key: unknown;
  readonly value: unknown;
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** One window result: the key prefix it belongs to and its payload `{start, end, ...results}`. */
export interface WindowResult {
  readonly prefix: Uint8Array;
  readonly start: number;
  readonly end: number;
  readonly payload: Record<string, unknown>;
}

/**
 * An input record as its windows see it: its fields read from the record when asked, so
 * the key and headers (read only by triggers and late-record callbacks) are decoded only
 * for them.
 */
export class RecordWindowInput implements WindowInput {
  constructor(
    readonly prefix: Uint8Array,
    private readonly record: InputRecord,
  ) {}

  get key(): unknown {
    return this.record.key;
  }

  get value(): unknown {
    return this.record.value;
  }

  get timestamp(): number {
    return this.record.timestamp;
  }

  get headers(): Readonly<Record<string, string>> {
    return this.record.headers;
  }

  get topic(): string {
    return this.record.topic;
  }

  get partition(): number {
    return this.record.partition;
  }

  get offset(): number {
    return this.record.offset;
  }
}

/** Windows updated by a record (still open) and windows it closed. */
export interface WindowOutput {
  readonly updated: WindowResult[];
  readonly expired: WindowResult[];
}

/** Options of {@link WindowOperator.process}. */
export interface ProcessOptions {
  /**
   * Whether the caller reads {@link WindowOutput.updated} (default true). An operator
   * may leave it empty when not (an `emit: 'final'` window builds no result per update).
   */
  readonly updates?: boolean;
}

/** A window kind processing records against its store's transaction. */
export interface WindowOperator {
  /** Store name (docs/semantics.md §7.8). */
  readonly storeName: string;
  /** Synchronous when the operator needs nothing from the database for this record. */
  process(windows: WindowedTransaction, record: WindowInput, options?: ProcessOptions): WindowOutput | Promise<WindowOutput>;
  /**
   * End of input (`weir run --until-idle --close-windows`): closes every open window of
   * the store partition and returns them as final results, in key order. Each key's
   * clock moves just past its newest window's close (sliding windows: the key is marked
   * closed through its last record), so a closed window is never re-opened and later
   * windows open as usual (docs/windows.md). Closing again without new records is a no-op.
   */
  closeAll(windows: WindowedTransaction): Promise<WindowResult[]>;
}

/** Sink for warnings (late records); the runtime writes them to stderr. */
export type WarningSink = (message: string) => void;
