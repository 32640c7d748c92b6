/**
 * The zod schema of a weir config file and the `WeirConfig` type it produces.
 * Objects are strict, so a misspelt key is an error instead of being ignored.
 */
import type { LoggingConfig } from '../shared/logging/weir-log.js';
import { z } from 'zod';
import { ERROR_POLICIES, type ErrorPolicy } from '../shared/protocol/worker-protocol.js';
import { CONFIG_DEFAULTS, MAX_PARTITIONS, MAX_WORKERS, defaultWorkers } from './defaults.js';
import { isPathSafeName, PATH_SAFE_NAME_PATTERN, PATH_SAFE_NAME_RULE } from '../shared/path-safe-names.js';
import { schemaRegistrySchema, sectionFormatFields } from './serialization-schema.js';
import type { JobTopicFormats } from '../shared/serialization/format.js';
import type { SchemaRegistryConfig } from '../shared/serialization/schema-registry-config.js';

/** Kafka's legal topic names; also used for local-log topics so a job moves between backends. */
const topicName = z
  .string()
  .regex(/^[a-zA-Z0-9._-]{1,249}$/, 'expected a topic name (1-249 letters, digits, ".", "_" or "-")');

const nonEmptyString = z.string().min(1);

/**
 * `appId` names the state directory `<state.dir>/<appId>` (which `weir state clear`
 * deletes), the consumer group and the changelog topic prefix, so it must be one
 * path-safe name: `..` or `a/b` would put state (and its deletion) outside `state.dir`.
 */
const APP_ID_EXPECTED = `expected an application id of ${PATH_SAFE_NAME_RULE}`;
const appIdSchema = z
  .string()
  .regex(PATH_SAFE_NAME_PATTERN, APP_ID_EXPECTED)
  .refine(isPathSafeName, { message: `${APP_ID_EXPECTED}, got a reference to a directory` });

/** Worker threads: bounded so a typo is a config error, not thousands of threads (see MAX_WORKERS). */
const workerCount = z.int().min(1).max(MAX_WORKERS);

/** Partitions of a created topic: bounded before anything is written (see MAX_PARTITIONS). */
const partitionCount = z.int().min(1).max(MAX_PARTITIONS);

export const localLogSchema = z.strictObject({
  backend: z.literal('local'),
  path: nonEmptyString.default(CONFIG_DEFAULTS.localLogPath),
});

export const kafkaLogSchema = z.strictObject({
  backend: z.literal('kafka'),
  /** A list, or one comma-separated string as librdkafka's `bootstrap.servers` takes it. */
  brokers: z.union([z.array(nonEmptyString).min(1), nonEmptyString]),
  clientProperties: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
});

export const stateSchema = z.strictObject({
  dir: nonEmptyString.default(CONFIG_DEFAULTS.stateDir),
  changelog: z.boolean().default(CONFIG_DEFAULTS.stateChangelog),
  openMaxRetries: z.int().min(0).default(CONFIG_DEFAULTS.stateOpenMaxRetries),
  openRetryBackoffMs: z.int().min(0).default(CONFIG_DEFAULTS.stateOpenRetryBackoffMs),
  onCorruptedRecreate: z.boolean().default(CONFIG_DEFAULTS.stateOnCorruptedRecreate),
  // Unset: derived from the commit interval (defaultTtlEvictionBudget in load-config.ts).
  ttlMaxEvictionsPerCheckpoint: z.int().min(1).optional(),
});

export const errorsSchema = z.strictObject({
  policy: z.enum(ERROR_POLICIES).default(CONFIG_DEFAULTS.errorPolicy),
  deadLetterTopic: topicName.optional(),
});

/**
 * `bench.input`: where `weir bench` gets its input. `file` (JSON Lines, as `weir produce`
 * reads) or `generator` (a module) replace the built-in generator, whose knobs are the
 * other fields. Paths are relative to the config file. Omitted fields take the
 * defaults documented in bench/engine/bench-defaults.ts.
 */
export const benchInputSchema = z
  .strictObject({
    file: nonEmptyString.optional(),
    generator: nonEmptyString.optional(),
    /** Distinct message keys (`key-0` … `key-{keys-1}`). */
    keys: z.int().min(1).optional(),
    /** `zipf`: key k is drawn with weight 1/(k+1)^zipfExponent (a few hot keys). */
    distribution: z.enum(['uniform', 'zipf']).optional(),
    zipfExponent: z.number().positive().optional(),
    /** JSON value template; strings `{{index}}`, `{{key}}`, `{{random}}`, `{{timestamp}}` are filled in. */
    value: z.json().optional(),
    /** Event-time rate: records per second of event time. */
    eventsPerSecond: z.number().positive().optional(),
    /** Each timestamp moves back by a random 0…disorderMs (out-of-order events). */
    disorderMs: z.int().min(0).optional(),
    startTimestamp: z.int().min(0).optional(),
    seed: z.int().optional(),
  })
  .refine((input) => input.file === undefined || input.generator === undefined, {
    message: 'give either "file" or "generator", not both',
    path: ['file'],
  });

/** `bench`: defaults of `weir bench` for this job (command-line flags win). */
export const benchSchema = z.strictObject({
  records: z.int().min(1).optional(),
  workers: z.array(workerCount).min(1).optional(),
  input: benchInputSchema.optional(),
});

/** `limits`: memory bounds of the data plane (docs/data-plane.md). */
export const limitsSchema = z.strictObject({
  workerInFlightBytes: z.int().min(64 * 1024).default(CONFIG_DEFAULTS.limitWorkerInFlightBytes),
  pendingOutputBytes: z.int().min(64 * 1024).default(CONFIG_DEFAULTS.limitPendingOutputBytes),
  checkpointBytes: z.int().min(64 * 1024).default(CONFIG_DEFAULTS.limitCheckpointBytes),
  workerMaxOldGenerationMb: z.int().min(16).default(CONFIG_DEFAULTS.limitWorkerMaxOldGenerationMb),
  /** Absent: chosen by the pipeline (CONFIG_DEFAULTS.limitWorkerMaxYoungGenerationMb / limitWindowedWorkerMaxYoungGenerationMb). */
  workerMaxYoungGenerationMb: z.int().min(1).optional(),
});

/** Loopback host names and addresses: a server there needs no token. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** `server`: the running job's HTTP server (docs/server.md). */
export const serverSchema = z.strictObject({
  enabled: z.boolean().default(CONFIG_DEFAULTS.serverEnabled),
  host: nonEmptyString.default(CONFIG_DEFAULTS.serverHost),
  port: z.int().min(0).max(65535).default(CONFIG_DEFAULTS.serverPort),
  /** Bearer token; `${ENV_VAR}` references are resolved (secret-references.ts). Required off loopback. */
  token: nonEmptyString.optional(),
  bodyLimit: z.int().min(1024).default(CONFIG_DEFAULTS.serverBodyLimit),
  maxLagRecords: z.int().min(1).default(CONFIG_DEFAULTS.serverMaxLagRecords),
  backpressureWaitMs: z.int().min(0).default(CONFIG_DEFAULTS.serverBackpressureWaitMs),
});

/** `logging`: weir's own log lines on stderr (docs/config.md; `log` is the log backend). */
export const loggingSchema = z.strictObject({
  level: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default(CONFIG_DEFAULTS.loggingLevel),
  format: z.enum(['auto', 'text', 'json']).default(CONFIG_DEFAULTS.loggingFormat),
});

/** The validated `bench` section of a config file. */
export type BenchSection = z.infer<typeof benchSchema>;

/** The raw file schema (before paths are resolved and brokers normalized). */
export const weirConfigSchema = z
  .strictObject({
    appId: appIdSchema,
    log: z.discriminatedUnion('backend', [localLogSchema, kafkaLogSchema]).default({
      backend: 'local',
      path: CONFIG_DEFAULTS.localLogPath,
    }),
    state: stateSchema.default(() => stateSchema.parse({})),
    processingGuarantee: z.enum(['at-least-once', 'exactly-once']).default(CONFIG_DEFAULTS.processingGuarantee),
    /** Default depends on processingGuarantee (see load-config.ts). */
    commitInterval: z.number().min(0).optional(),
    processingTimeout: z.number().positive().default(CONFIG_DEFAULTS.processingTimeout),
    shutdownTimeout: z.number().positive().default(CONFIG_DEFAULTS.shutdownTimeout),
    limits: limitsSchema.default(() => limitsSchema.parse({})),
    commitEvery: z.int().min(0).default(CONFIG_DEFAULTS.commitEvery),
    workers: workerCount.default(defaultWorkers),
    input: z.strictObject({
      topics: z.array(topicName).min(1),
      autoOffsetReset: z.enum(['earliest', 'latest']).default(CONFIG_DEFAULTS.autoOffsetReset),
      sourceOffsetOutOfRange: z
        .enum(['earliest', 'latest', 'match', 'error'])
        .default(CONFIG_DEFAULTS.sourceOffsetOutOfRange),
      ...sectionFormatFields,
    }),
    output: z.strictObject({ topics: z.array(topicName).default([]), ...sectionFormatFields }).default({ topics: [] }),
    /** Confluent Schema Registry for avro, protobuf and json-schema formats (docs/serialization.md). */
    schemaRegistry: schemaRegistrySchema.optional(),
    pipeline: nonEmptyString,
    errors: errorsSchema.default({ policy: CONFIG_DEFAULTS.errorPolicy }),
    partitions: partitionCount.default(CONFIG_DEFAULTS.partitions),
    /** Read by `weir bench` only (see bench/engine/); not part of {@link WeirConfig}. */
    bench: benchSchema.optional(),
    server: serverSchema.default(() => serverSchema.parse({})),
    logging: loggingSchema.default(() => loggingSchema.parse({})),
  })
  .superRefine((config, ctx) => {
    // Anyone who can reach a non-loopback address could produce and read state.
    if (config.server.enabled && !isLoopbackHost(config.server.host) && config.server.token === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['server', 'token'],
        message: `required when server.host is not a loopback address (got "${config.server.host}"); e.g. token: \${WEIR_SERVER_TOKEN_VALUE}`,
      });
    }
    if (config.errors.policy === 'dead-letter' && config.errors.deadLetterTopic === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['errors', 'deadLetterTopic'],
        message: 'required when errors.policy is "dead-letter"',
      });
    }
    // A dead letter read back as input fails again and is dead-lettered again, forever.
    const deadLetterTopic = config.errors.deadLetterTopic;
    if (deadLetterTopic !== undefined && config.input.topics.includes(deadLetterTopic)) {
      ctx.addIssue({
        code: 'custom',
        path: ['errors', 'deadLetterTopic'],
        message: `"${deadLetterTopic}" is also an input topic: its failed records would be read and fail again forever; use another topic`,
      });
    }
  });

/** Embedded, durable, single-process log on local disk (the default). */
export interface LocalLogConfig {
  readonly backend: 'local';
  /** Absolute directory of the log (given relative to the config file). */
  readonly path: string;
}

/** Kafka through @confluentinc/kafka-javascript. */
export interface KafkaLogConfig {
  readonly backend: 'kafka';
  /** Bootstrap brokers, `host:port` each. A comma-separated string in the file is split. */
  readonly brokers: readonly string[];
  /**
   * librdkafka properties passed through unchanged (e.g. `security.protocol`).
   * `${ENV_VAR}` references in string values are already resolved; never log these
   * without {@link redactConfig}.
   */
  readonly clientProperties: Readonly<Record<string, string | number | boolean>>;
}

export type LogConfig = LocalLogConfig | KafkaLogConfig;

/** The running job's HTTP server (docs/server.md). */
export interface ServerConfig {
  readonly enabled: boolean;
  readonly host: string;
  /** 0: any free port (the address file names it). */
  readonly port: number;
  /** Bearer token, `${ENV_VAR}` resolved; never log without {@link redactConfig}. */
  readonly token?: string;
  /** Largest request body in bytes (413 above). */
  readonly bodyLimit: number;
  /** Input records not yet routed above which live produce pushes back. */
  readonly maxLagRecords: number;
  /** Longest a produce request waits for the lag to drop before 429. */
  readonly backpressureWaitMs: number;
}

/** Weir's own log lines on stderr (docs/config.md; the type lives with the logger). */
export type { LoggingConfig };

export interface StateConfig {
  /** Absolute state base directory (given relative to the config file). */
  readonly dir: string;
  /** Write changelogs (off ⇒ no recovery). */
  readonly changelog: boolean;
  readonly openMaxRetries: number;
  readonly openRetryBackoffMs: number;
  readonly onCorruptedRecreate: boolean;
  /** Most expired TTL keys one checkpoint deletes per store partition. */
  readonly ttlMaxEvictionsPerCheckpoint: number;
}

/** A validated config with defaults applied, paths absolute, secrets resolved. */
export interface WeirConfig {
  /** Application id: the consumer group and the changelog topic prefix. */
  readonly appId: string;
  readonly log: LogConfig;
  readonly state: StateConfig;
  readonly processingGuarantee: 'at-least-once' | 'exactly-once';
  /** Seconds between commits; 0 ⇒ commit after every batch. Default 5, or 0.1 under exactly-once. */
  readonly commitInterval: number;
  /** Seconds one batch may take in a worker before the job stops with WORKER_STUCK. */
  readonly processingTimeout: number;
  /** Seconds after a stop signal before a run still going stops without a final checkpoint. */
  readonly shutdownTimeout: number;
  /** Memory bounds of the data plane, in bytes. */
  readonly limits: {
    readonly workerInFlightBytes: number;
    readonly pendingOutputBytes: number;
    readonly checkpointBytes: number;
    /** Old-generation heap limit of each worker thread, MB (piscina/worker `resourceLimits`). */
    readonly workerMaxOldGenerationMb: number;
    /** Young-generation size of each worker thread, MB; absent: 16, or 48 for a pipeline with windows. */
    readonly workerMaxYoungGenerationMb?: number;
  };
  /** Commit after this many processed offsets; 0 ⇒ only by interval. */
  readonly commitEvery: number;
  /** Worker threads; default `os.availableParallelism()`. */
  readonly workers: number;
  readonly input: {
    readonly topics: readonly string[];
    /** Start of a partition with no committed offset (weir default `earliest`, see CONFIG_DEFAULTS). */
    readonly autoOffsetReset: 'earliest' | 'latest';
    /** Committed offset below the source low watermark (docs/semantics.md §5.7); see CONFIG_DEFAULTS. */
    readonly sourceOffsetOutOfRange: 'earliest' | 'latest' | 'match' | 'error';
  };
  /** Topics the pipeline may emit to. */
  readonly output: { readonly topics: readonly string[] };
  /** Absolute path of the pipeline module (given relative to the config file). */
  readonly pipeline: string;
  readonly errors: {
    readonly policy: ErrorPolicy;
    /** Present when `policy` is `dead-letter`. */
    readonly deadLetterTopic?: string;
  };
  /** Partition count for topics the job creates. */
  readonly partitions: number;
  /** The running job's HTTP server. */
  readonly server: ServerConfig;
  /** Weir's own log lines; absent (configs built by hand): info, text. */
  readonly logging?: LoggingConfig;
  /**
   * Key and value formats of every input and output topic (docs/serialization.md);
   * absent, or a topic missing, means JSON.
   */
  readonly formats?: JobTopicFormats;
  /** Present when `schemaRegistry` is configured; `${ENV}` references resolved. */
  readonly schemaRegistry?: SchemaRegistryConfig;
}
