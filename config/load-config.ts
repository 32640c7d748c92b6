/**
 * Loads a weir config: read the file (YAML or JSON by extension), apply `WEIR_…`
 * environment overrides (see env-overrides), validate against the schema, resolve
 * relative paths against the config file's directory, normalize brokers, and resolve
 * `${ENV_VAR}` secret references in Kafka client properties.
 */
import { CONFIG_DEFAULTS } from './defaults.js';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError, ConfigFileNotFoundError, type ConfigIssue } from '../shared/errors/config-errors.js';
import { applyEnvOverrides } from './env-overrides.js';
import { literalReferenceIssues } from './literal-references.js';
import { formatIssues } from './format-issues.js';
import { weirConfigSchema, type LogConfig, type WeirConfig } from './schema.js';
import { resolveSecretField, resolveSecretReferences } from './secret-references.js';
import { formatIssues as serializationIssues, resolveSchemaRegistry, topicFormatsOf } from './serialization-schema.js';

/** Alias expansions a config file may use (yaml's own default); a config needs a handful. */
const YAML_MAX_ALIAS_COUNT = 100;

/** File extensions understood by {@link loadConfig}. */
export const CONFIG_EXTENSIONS = ['.yaml', '.yml', '.json'] as const;

function parseText(text: string, path: string): unknown {
  const extension = extname(path).toLowerCase();
  if (extension === '.json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new ConfigError(path, [{ path: '', message: `invalid JSON: ${(error as Error).message}` }], { cause: error });
    }
  }
  if (extension === '.yaml' || extension === '.yml') {
    const document = parseDocument(text);
    const first = document.errors[0];
    if (first !== undefined) {
      throw new ConfigError(path, [{ path: '', message: `invalid YAML: ${first.message.split('\n')[0] ?? ''}` }], {
        cause: first,
      });
    }
    try {
      // yaml refuses to expand more aliases than `maxAliasCount` (an "alias bomb" grows a
      // few lines into gigabytes); say so as a config error instead of a stack trace.
      return document.toJS({ maxAliasCount: YAML_MAX_ALIAS_COUNT }) as unknown;
    } catch (error) {
      const detail =
        error instanceof ReferenceError && /alias/i.test(error.message)
          ? `too many alias expansions (more than ${YAML_MAX_ALIAS_COUNT}); expand the aliases by hand`
          : error instanceof Error
            ? error.message
            : String(error);
      throw new ConfigError(path, [{ path: '', message: `invalid YAML: ${detail}` }], { cause: error });
    }
  }
  throw new ConfigError(path, [
    { path: '', message: `unsupported file extension "${extension}", expected ${CONFIG_EXTENSIONS.join(', ')}` },
  ]);
}

/**
 * Reads and validates the config file at `path`. `env` (default `process.env`)
 * supplies `WEIR_…` overrides and `${ENV_VAR}` secrets.
 * @throws ConfigFileNotFoundError when there is no file at `path`.
 * @throws ConfigError naming the file, the field and what was expected.
 */
export async function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<WeirConfig> {
  const absolute = resolve(path);
  const info = await stat(absolute).catch(() => undefined);
  if (info === undefined || !info.isFile()) throw new ConfigFileNotFoundError(absolute);
  const text = await readFile(absolute, 'utf8');
  return parseConfig(parseText(text, absolute), absolute, dirname(absolute), env);
}

function resolveLogPaths(log: LogConfig | RawLog, baseDir: string): LogConfig {
  if (log.backend === 'local') return { backend: 'local', path: resolve(baseDir, log.path) };
  const brokers = typeof log.brokers === 'string' ? log.brokers.split(',').map((b) => b.trim()).filter((b) => b !== '') : [...log.brokers];
  return { backend: 'kafka', brokers, clientProperties: { ...log.clientProperties } };
}

function hasFormats(section: { keyFormat?: unknown; valueFormat?: unknown; formats?: unknown }): boolean {
  return section.keyFormat !== undefined || section.valueFormat !== undefined || section.formats !== undefined;
}

type RawLog = { backend: 'kafka'; brokers: string | readonly string[]; clientProperties: Record<string, string | number | boolean> };

/**
 * Validates an already-parsed config object. `sourceName` names it in errors (usually
 * the file path); relative paths resolve against `baseDir`; `env` (default
 * `process.env`) supplies overrides and secrets.
 * @throws ConfigError naming `sourceName`, the field and what was expected.
 */
export function parseConfig(
  obj: unknown,
  sourceName: string,
  baseDir: string,
  env: NodeJS.ProcessEnv = process.env,
): WeirConfig {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new ConfigError(sourceName, [{ path: '', message: 'expected a mapping of config fields at the top level' }]);
  }
  const overridden = applyEnvOverrides(obj as Record<string, unknown>, env, weirConfigSchema);
  if (overridden.issues.length > 0) throw new ConfigError(sourceName, overridden.issues);
  const literal = literalReferenceIssues(overridden.config);
  if (literal.length > 0) throw new ConfigError(sourceName, literal);

  const result = weirConfigSchema.safeParse(overridden.config, { reportInput: true });
  if (!result.success) {
    const annotate = (field: string): string => {
      for (const [source, variable] of overridden.sources) {
        if (field === source || field.startsWith(`${source}.`) || field.startsWith(`${source}[`)) {
          return ` (from ${variable})`;
        }
      }
      return '';
    };
    throw new ConfigError(sourceName, formatIssues(result.error.issues, annotate), { cause: result.error });
  }

  const raw = result.data;
  let log = resolveLogPaths(raw.log, baseDir);
  if (log.backend === 'kafka') {
    const secrets = resolveSecretReferences(log.clientProperties, env);
    const issues: ConfigIssue[] = secrets.issues;
    if (issues.length > 0) throw new ConfigError(sourceName, issues);
    log = { ...log, clientProperties: secrets.resolved };
  }
  let server: WeirConfig['server'] = { ...raw.server };
  if (raw.server.token !== undefined) {
    const token = resolveSecretField(raw.server.token, 'server.token', env);
    if (token.issues.length > 0) throw new ConfigError(sourceName, token.issues);
    server = { ...raw.server, token: token.resolved };
  } else {
    // exactOptionalPropertyTypes: no `token: undefined` key.
    const { token: _absent, ...rest } = raw.server;
    server = rest;
  }
  const formatProblems = [
    ...serializationIssues('input', raw.input, raw.schemaRegistry !== undefined, baseDir),
    ...serializationIssues('output', raw.output, raw.schemaRegistry !== undefined, baseDir),
  ];
  if (formatProblems.length > 0) throw new ConfigError(sourceName, formatProblems);
  const registry = raw.schemaRegistry === undefined ? undefined : resolveSchemaRegistry(raw.schemaRegistry, env);
  if (registry !== undefined && registry.issues.length > 0) throw new ConfigError(sourceName, registry.issues);
  const errors =
    raw.errors.deadLetterTopic === undefined
      ? { policy: raw.errors.policy }
      : { policy: raw.errors.policy, deadLetterTopic: raw.errors.deadLetterTopic };
  const commitInterval =
    raw.commitInterval ??
    (raw.processingGuarantee === 'exactly-once' ? CONFIG_DEFAULTS.exactlyOnceCommitInterval : CONFIG_DEFAULTS.commitInterval);
  return {
    appId: raw.appId,
    log,
    state: {
      ...raw.state,
      dir: resolve(baseDir, raw.state.dir),
      ttlMaxEvictionsPerCheckpoint: raw.state.ttlMaxEvictionsPerCheckpoint ?? defaultTtlEvictionBudget(commitInterval),
    },
    processingGuarantee: raw.processingGuarantee,
    commitInterval,
    processingTimeout: raw.processingTimeout,
    shutdownTimeout: raw.shutdownTimeout,
    limits: { ...raw.limits },
    commitEvery: raw.commitEvery,
    workers: raw.workers,
    input: {
      topics: raw.input.topics,
      autoOffsetReset: raw.input.autoOffsetReset,
      sourceOffsetOutOfRange: raw.input.sourceOffsetOutOfRange,
    },
    output: { topics: raw.output.topics },
    pipeline: resolve(baseDir, raw.pipeline),
    errors,
    partitions: raw.partitions,
    server,
    logging: { ...raw.logging },
    // Only when a format is configured: every topic is JSON otherwise.
    ...(hasFormats(raw.input) || hasFormats(raw.output)
      ? { formats: { input: topicFormatsOf(raw.input, baseDir), output: topicFormatsOf(raw.output, baseDir) } }
      : {}),
    ...(registry !== undefined ? { schemaRegistry: registry.config } : {}),
  };
}

/**
 * The TTL sweep's budget per checkpoint when `state.ttlMaxEvictionsPerCheckpoint` is unset:
 * the reference's 10,000, or what sustains its 2,000 expirations/s at a longer interval.
 */
export function defaultTtlEvictionBudget(commitIntervalSeconds: number): number {
  return Math.max(
    CONFIG_DEFAULTS.stateTtlMaxEvictionsPerCheckpoint,
    Math.ceil(CONFIG_DEFAULTS.stateTtlEvictionsPerSecond * commitIntervalSeconds),
  );
}
