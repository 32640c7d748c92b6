/** Per-partition state on LevelDB: partitions, transactions (plain, windowed, timestamped), state views, stores. */
export { StorePartition, DEFAULT_TTL_MAX_EVICTIONS } from './store-partition.js';
export type { StorePartitionOptions, RangeOptions, ChangelogChunkResult } from './store-partition.js';
export {
  openDatabase,
  describeOpenRetry,
  assertStoreNotLocked,
  checkCurrentFile,
  classifyStoreError,
  isStoreDamage,
} from './open-database.js';
export type { OpenDatabaseOptions, OpenRetryEvent, StoreFailure } from './open-database.js';
export { classicLevelFactory, destroyDatabaseDirectory } from './state-database.js';
export type { StateDatabase, DatabaseFactory } from './state-database.js';
export { PartitionTransaction, NOT_CACHED } from './partition-transaction.js';
export type { TransactionStatus, TransactionRangeOptions } from './partition-transaction.js';
export { TransactionCache, DELETED, UNDEFINED } from './transaction-cache.js';
export type { CacheLookup, CachedUpdate, CachedValue } from './transaction-cache.js';
export { StateView } from './state-view.js';
export type { StateWriteOptions } from './state-view.js';
export type { TransactionStorage, KeyedStateTransaction } from './state-interfaces.js';
export { TransactionTtl } from './transaction-ttl.js';
export { WindowedTransaction } from './windowed-transaction.js';
export type { StoredWindow, ExpiredWindow, ExpireOptions } from './windowed-transaction.js';
export * from './window-keys.js';
export { TimestampedTransaction, MIN_ELIGIBLE_TIMESTAMPS_CF, MIN_ELIGIBLE_TIMESTAMP_KEY } from './timestamped-transaction.js';
export type { TimestampedStoreOptions, TimestampedPrefix } from './timestamped-transaction.js';
export { runTransaction } from './run-transaction.js';
export type { StateStore } from './state-store.js';
export { KeyValueStore } from './key-value-store.js';
export type { KeyValueStoreConfig } from './key-value-store.js';
export { byteKeyId } from './byte-key-id.js';
export { shouldApplyChangelogRecord, recordColumnFamily, headerText, isTtlStampedRecord } from './changelog-replay.js';
export { TransactionChangelog } from './transaction-changelog.js';
export type { ChangelogRecord, ReplayedChangelogRecord, CommittedOffsets, ProcessedOffsets } from './changelog-record.js';
export {
  DEFAULT_CF,
  METADATA_CF,
  TTL_INDEX_CF,
  GLOBAL_COUNTER_CF,
  LOCAL_ONLY_CFS,
  CHANGELOG_OFFSET_KEY,
  GLOBAL_COUNTER_KEY,
  COLUMN_FAMILY_HEADER,
  PROCESSED_OFFSETS_HEADER,
  TTL_ENABLED_KEY,
  TTL_FORMAT_VERSION,
  TTL_FORMAT_VERSION_KEY,
  TTL_HIGH_WATER_KEY,
  TTL_CLOCK_CF,
  TTL_STAMPED_HEADER,
} from './column-families.js';
