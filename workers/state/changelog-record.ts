import type { RecordHeader } from '../../shared/log/log-backend.js';

/** A changelog record of a prepared transaction (docs/semantics.md §3.4; see `TransactionChangelog.records`). */
export interface ChangelogRecord {
  /** Full stored key bytes (prefix included). */
  readonly key: Uint8Array;
  /** Stored value bytes, or `null` for a tombstone. */
  readonly value: Uint8Array | null;
  /** `__column_family__` and `__processed_tp_offsets__`. */
  readonly headers: readonly RecordHeader[];
}

/** A changelog record read back during recovery, with its changelog offset. */
export interface ReplayedChangelogRecord {
  readonly key: unknown;
  readonly value: unknown;
  /** Header values may arrive as bytes or strings depending on the log client. */
  readonly headers: readonly { readonly key: string; readonly value: Uint8Array | string | null }[];
  readonly offset: number;
}

/** Committed source offsets (next offset to consume) per source topic; NEVER_COMMITTED (worker-protocol.ts) when none. */
export type CommittedOffsets = Readonly<Record<string, number>>;

/** Processed source offsets per source topic, as carried in `__processed_tp_offsets__`. */
export type ProcessedOffsets = Readonly<Record<string, number>>;
