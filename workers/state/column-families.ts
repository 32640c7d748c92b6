/** Column family names and fixed metadata keys of the state layout (spec §2.1, §2.4, §2.5). */

/** The user-data column family. */
export const DEFAULT_CF = 'default';
/** Local-only metadata: changelog offset and (later) TTL flags. */
export const METADATA_CF = '__metadata__';
/** Local-only TTL expiry index (spec §6.2; reserved here). */
export const TTL_INDEX_CF = '__ttl_index__';
/** Per-partition monotonically increasing counter. */
export const GLOBAL_COUNTER_CF = '__global-counter__';

/** Column families that never go to the changelog and are ignored when replayed. */
export const LOCAL_ONLY_CFS: ReadonlySet<string> = new Set([METADATA_CF, TTL_INDEX_CF]);

/** Metadata key holding `BE64(last changelog offset reflected locally)`. */
export const CHANGELOG_OFFSET_KEY: Uint8Array = Buffer.from('__changelog_offset__', 'latin1');
/** Key of the global counter in {@link GLOBAL_COUNTER_CF} (empty prefix, so no separator). */
export const GLOBAL_COUNTER_KEY: Uint8Array = Buffer.from('__global_counter__', 'latin1');

/** Changelog header naming the column family of a record. */
export const COLUMN_FAMILY_HEADER = '__column_family__';
/** Changelog header with `JSON({source topic: last processed offset})` or `null`. */
export const PROCESSED_OFFSETS_HEADER = '__processed_tp_offsets__';
