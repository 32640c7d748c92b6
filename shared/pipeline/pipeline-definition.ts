/**
 * The user-facing pipeline API: a module whose default export is the result of
 * `definePipeline({...})`. It declares the stores it uses and a processing function
 * that runs in a worker thread for every record of the partitions that worker owns.
 */

/** A JSON value as stored in state and carried in records. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A record handed to the processing function; key and value are decoded JSON. */
export interface InputRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: JsonValue | undefined;
  readonly value: JsonValue | undefined;
  readonly timestamp: number;
  /** Header values decoded as UTF-8. */
  readonly headers: Readonly<Record<string, string>>;
  /** The raw key bytes (null for records without a key). */
  readonly rawKey: Uint8Array | null;
}

/** Key-value state bound to the message key of the record being processed. */
export interface KeyValueState {
  /** The value, `defaultValue` when absent. The key must have been preloaded or written in this checkpoint. */
  get<T extends JsonValue = JsonValue>(key: JsonValue, defaultValue?: T): T | undefined;
  set(key: JsonValue, value: JsonValue): void;
  delete(key: JsonValue): void;
  exists(key: JsonValue): boolean;
  /** Like `get` but reads the database when the key was not preloaded (slower: one read per call). */
  getAsync<T extends JsonValue = JsonValue>(key: JsonValue, defaultValue?: T): Promise<T | undefined>;
}

/** A record emitted to an output topic. */
export interface OutputRecord {
  readonly key?: JsonValue | null;
  readonly value: JsonValue;
  readonly headers?: Readonly<Record<string, string>>;
  /** Defaults to the input record's timestamp. */
  readonly timestamp?: number;
}

export interface ProcessingContext {
  /** State of a declared store for the current record's key; `store` may be omitted when one store is declared. */
  state(store?: string): KeyValueState;
  /** Emit a record to an output topic declared in the config (`output.topics`). */
  emit(topic: string, record: OutputRecord): void;
}

export interface StoreDeclaration {
  /**
   * State keys the processing function reads for a record. weir loads all of them for a
   * whole batch of records in one database call before the function runs, so `get` is
   * synchronous and fast. A function may decide per record.
   */
  readonly preload?: readonly JsonValue[] | ((record: InputRecord) => readonly JsonValue[]);
}

export interface PipelineDefinition {
  /** Key-value stores by name. */
  readonly stores?: Readonly<Record<string, StoreDeclaration>>;
  /** Runs for every input record; may be async, but a synchronous function is faster. */
  process(record: InputRecord, context: ProcessingContext): void | Promise<void>;
}

/** Declare a pipeline (identity at run time; gives type checking to users). */
export function definePipeline(definition: PipelineDefinition): PipelineDefinition {
  return definition;
}

/** Store names of a definition, sorted. */
export function storeNames(definition: PipelineDefinition): string[] {
  return Object.keys(definition.stores ?? {}).sort();
}
