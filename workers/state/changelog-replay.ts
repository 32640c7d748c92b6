import { RecoveryCommittedOffsetMissingError } from '../../shared/errors/state-errors.js';
import { COLUMN_FAMILY_HEADER, PROCESSED_OFFSETS_HEADER, TTL_STAMPED_HEADER } from './column-families.js';
import type { CommittedOffsets, ReplayedChangelogRecord } from './changelog-record.js';

/** Text of the first header named `name`, or `undefined` when absent. */
export function headerText(record: ReplayedChangelogRecord, name: string): string | undefined {
  for (const header of record.headers) {
    if (header.key !== name) continue;
    if (header.value === null) return undefined;
    return typeof header.value === 'string' ? header.value : Buffer.from(header.value).toString('utf8');
  }
  return undefined;
}

/** The record's column family, or `undefined` when the header is missing or empty. */
export function recordColumnFamily(record: ReplayedChangelogRecord): string | undefined {
  const cf = headerText(record, COLUMN_FAMILY_HEADER);
  return cf === undefined || cf === '' ? undefined : cf;
}

/** True when the record's value is TTL-stamped (it carries {@link TTL_STAMPED_HEADER}). */
export function isTtlStampedRecord(record: ReplayedChangelogRecord): boolean {
  return record.headers.some((header) => header.key === TTL_STAMPED_HEADER);
}

/**
 * The skip rule of docs/semantics.md §5.4: a record whose `__processed_tp_offsets__` names, for any
 * topic, a processed offset at or beyond that topic's committed offset came from a
 * checkpoint whose commit did not happen, so it must not be applied. Records without
 * the header (or with `null`, or with an unrecognised format) are always applied.
 */
export function shouldApplyChangelogRecord(record: ReplayedChangelogRecord, committed: CommittedOffsets): boolean {
  return changelogRecordFilter(committed)(record);
}

/**
 * {@link shouldApplyChangelogRecord} for many records against the same committed offsets
 * (one recovery chunk). Every record of one checkpoint carries the same header, so the
 * decision is remembered per header text, in this filter only.
 */
export function changelogRecordFilter(committed: CommittedOffsets): (record: ReplayedChangelogRecord) => boolean {
  let lastText: string | undefined;
  let lastApply = true;
  return (record) => {
    const text = headerText(record, PROCESSED_OFFSETS_HEADER);
    if (text === undefined) return true;
    if (text === lastText) return lastApply;
    lastApply = decide(text, committed, record.offset);
    lastText = text;
    return lastApply;
  };
}

function decide(text: string, committed: CommittedOffsets, offset: number): boolean {
  let processed: unknown;
  try {
    processed = JSON.parse(text);
  } catch {
    return true; // not a format we know: treated like a missing header (older versions)
  }
  if (processed === null || typeof processed !== 'object' || Array.isArray(processed)) return true;
  for (const [topic, processedOffset] of Object.entries(processed as Record<string, unknown>)) {
    const committedOffset = committed[topic];
    if (committedOffset === undefined) throw new RecoveryCommittedOffsetMissingError(topic, offset);
    if (typeof processedOffset === 'number' && processedOffset >= committedOffset) return false;
  }
  return true;
}
