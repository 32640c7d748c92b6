/** Column family names and fixed metadata keys (docs/semantics.md §2.1, §2.4, §2.5). */

/** The user-data column family. */
export const DEFAULT_CF = 'default';
/** Local-only metadata: changelog offset and TTL flags. */
export const METADATA_CF = '__metadata__';
/** Local-only TTL expiry index: `BE64(expiresAt) || stored key` → empty (docs/semantics.md §6.2). */
export const TTL_INDEX_CF = '__ttl_index__';
/** Per-partition monotonically increasing counter. */
export const GLOBAL_COUNTER_CF = '__global-counter__';

/** Column families that never go to the changelog and are ignored when replayed. */
export const LOCAL_ONLY_CFS: ReadonlySet<string> = new Set([METADATA_CF, TTL_INDEX_CF]);

/** Metadata key holding `BE64(last changelog offset reflected locally)`. */
export const CHANGELOG_OFFSET_KEY: Uint8Array = Buffer.from('__changelog_offset__', 'latin1');
/** Metadata key: the partition is in TTL mode (any non-empty value; written as `0x01`). */
export const TTL_ENABLED_KEY: Uint8Array = Buffer.from('__ttl_enabled__', 'latin1');
/** Metadata key: `BE64(TTL format version)`; this version writes and reads {@link TTL_FORMAT_VERSION}. */
export const TTL_FORMAT_VERSION_KEY: Uint8Array = Buffer.from('__ttl_format_version__', 'latin1');
/**
 * Column family of the TTL clock. Unlike Quix Streams (which keeps the clock in the
 * local-only metadata) it is changelogged, so a partition rebuilt from its changelog, or
 * whose last flush was lost in a crash, resumes with the clock its state was written
 * with and hides exactly what the uninterrupted job hid.
 */
export const TTL_CLOCK_CF = '__ttl_clock__';
/** Key in {@link TTL_CLOCK_CF}: `BE64(TTL clock)`, the highest record timestamp state was used with. */
export const TTL_HIGH_WATER_KEY: Uint8Array = Buffer.from('__ttl_high_water_ms__', 'latin1');
/** The stamped-value layout version (docs/semantics.md §6.2: `BE64(expiresAt) || value`). */
export const TTL_FORMAT_VERSION = 2;

/** Key of the global counter in {@link GLOBAL_COUNTER_CF} (empty prefix, so no separator). */
export const GLOBAL_COUNTER_KEY: Uint8Array = Buffer.from('__global_counter__', 'latin1');

/** Changelog header naming the column family of a record. */
export const COLUMN_FAMILY_HEADER = '__column_family__';
/** Changelog header with `JSON({source topic: last processed offset})` or `null`. */
export const PROCESSED_OFFSETS_HEADER = '__processed_tp_offsets__';
/**
 * Changelog header on records whose value is TTL-stamped. Recovery reads stamps only from
 * records that carry it, so a plain value is never mistaken for a stamped one.
 */
export const TTL_STAMPED_HEADER = '__ttl_stamped__';
