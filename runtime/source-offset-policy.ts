/**
 * What to do when a partition's committed source offset is below the source's low
 * watermark at assignment, i.e. records the job never processed were deleted by
 * retention (docs/semantics.md §5.7). Without care, recovery would use that stale offset as its
 * boundary and the job would never catch up (upstream issue #1114).
 */
import type { TopicPartition } from '../shared/log/log-backend.js';
import { SourceOffsetOutOfRangeError } from '../shared/errors/runtime-errors.js';

export type SourceOffsetOutOfRangePolicy = 'earliest' | 'latest' | 'match' | 'error';

export type SourceOffsetAction =
  | { readonly kind: 'in-range' }
  | {
      /** Destroy the partition's local state, recover with `recoveryBoundary` as the committed offset, read from `seekTo`. */
      readonly kind: 'reset';
      readonly seekTo: number;
      readonly recoveryBoundary: number;
    };

export function resolveSourceOffset(
  tp: TopicPartition,
  committed: number | undefined,
  low: number,
  high: number,
  policy: SourceOffsetOutOfRangePolicy,
  autoOffsetReset: 'earliest' | 'latest',
): SourceOffsetAction {
  if (committed === undefined || committed < 0 || committed >= low) return { kind: 'in-range' };
  if (policy === 'error') {
    throw new SourceOffsetOutOfRangeError(tp, committed, low, 'input.sourceOffsetOutOfRange is "error"; nothing was changed');
  }
  const effective = policy === 'match' ? autoOffsetReset : policy;
  // earliest: resume at the first record still there; every changelog record of offsets
  // below it stays valid. latest: skip to the end; only header-less changelog records apply.
  return effective === 'earliest'
    ? { kind: 'reset', seekTo: low, recoveryBoundary: low }
    : { kind: 'reset', seekTo: high, recoveryBoundary: 0 };
}
