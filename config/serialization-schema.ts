/**
 * Config of key and value formats (docs/serialization.md): `keyFormat` / `valueFormat`
 * of `input` and `output` (every topic of the section), `formats` per topic (overrides),
 * and `schemaRegistry`. A format is a name (`string`) or an object with a `type`.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { ConfigIssue } from '../shared/errors/config-errors.js';
import { FORMAT_NAMES, JSON_FORMAT, REGISTRY_FORMATS, type FormatSpec, type TopicFormatSpecs } from '../shared/serialization/format.js';
import type { SchemaRegistryConfig } from '../shared/serialization/schema-registry-config.js';

/** Defaults of `schemaRegistry`'s retry knobs. */
export const SCHEMA_REGISTRY_DEFAULTS = {
  /** Retries of a request that got no answer or 408/429/5xx (the client's own default is 3). */
  maxRetries: 5,
  /** First backoff, ms; doubles per retry, with full jitter. */
  retryBackoffMs: 200,
  retryMaxBackoffMs: 5_000,
  /** One request's timeout, ms. */
  requestTimeoutMs: 10_000,
} as const;

const formatObject = z.strictObject({
  type: z.enum(FORMAT_NAMES),
  schema: z.string().min(1).optional(),
  message: z.string().min(1).optional(),
  subject: z.string().min(1).optional(),
  autoRegister: z.boolean().optional(),
});

/** `avro` is shorthand for `{ type: avro }`. */
export const formatSchema = z.preprocess((value) => (typeof value === 'string' ? { type: value } : value), formatObject);

export const topicFormatsSchema = z.strictObject({ key: formatSchema.optional(), value: formatSchema.optional() });

/** The format fields `input` and `output` gain. */
export const sectionFormatFields = {
  keyFormat: formatSchema.optional(),
  valueFormat: formatSchema.optional(),
  formats: z.record(z.string(), topicFormatsSchema).optional(),
};

export const schemaRegistrySchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
  /** `${ENV_VAR}` references are resolved at load time. */
  username: z.string().optional(),
  password: z.string().optional(),
  maxRetries: z.int().min(0).max(100).default(SCHEMA_REGISTRY_DEFAULTS.maxRetries),
  retryBackoffMs: z.int().min(0).default(SCHEMA_REGISTRY_DEFAULTS.retryBackoffMs),
  retryMaxBackoffMs: z.int().min(0).default(SCHEMA_REGISTRY_DEFAULTS.retryMaxBackoffMs),
  requestTimeoutMs: z.int().min(1).default(SCHEMA_REGISTRY_DEFAULTS.requestTimeoutMs),
});

type RawFormat = z.infer<typeof formatObject>;
interface RawSection {
  readonly topics: readonly string[];
  readonly keyFormat?: RawFormat | undefined;
  readonly valueFormat?: RawFormat | undefined;
  readonly formats?: Readonly<Record<string, { key?: RawFormat | undefined; value?: RawFormat | undefined }>> | undefined;
}

/** Checks of the format fields that span fields; paths name the offending field. */
export function formatIssues(
  section: 'input' | 'output',
  raw: RawSection,
  hasRegistry: boolean,
  baseDir: string,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const check = (format: RawFormat | undefined, path: string): void => {
    if (format === undefined) return;
    const registry = REGISTRY_FORMATS.has(format.type);
    if (registry && !hasRegistry) issues.push({ path, message: `"${format.type}" needs schemaRegistry (its records carry schema ids)` });
    if (section === 'output' && registry && format.schema === undefined) {
      issues.push({ path: `${path}.schema`, message: `required for writing ${format.type}: the schema to register or look up` });
    }
    if (!registry) {
      for (const field of ['schema', 'message', 'subject', 'autoRegister'] as const) {
        if (format[field] !== undefined) issues.push({ path: `${path}.${field}`, message: `only for avro, protobuf and json-schema, not ${format.type}` });
      }
    }
    if (format.type !== 'protobuf' && format.message !== undefined && registry) {
      issues.push({ path: `${path}.message`, message: 'only for protobuf' });
    }
    if (registry && format.schema !== undefined) {
      const file = resolve(baseDir, format.schema);
      if (!existsSync(file) || !statSync(file).isFile()) issues.push({ path: `${path}.schema`, message: `no schema file at ${file}` });
    }
  };
  check(raw.keyFormat, `${section}.keyFormat`);
  check(raw.valueFormat, `${section}.valueFormat`);
  for (const [topic, formats] of Object.entries(raw.formats ?? {})) {
    if (!raw.topics.includes(topic)) {
      issues.push({ path: `${section}.formats.${topic}`, message: `"${topic}" is not one of ${section}.topics (${raw.topics.join(', ') || 'none'})` });
    }
    check(formats.key, `${section}.formats.${topic}.key`);
    check(formats.value, `${section}.formats.${topic}.value`);
  }
  return issues;
}

function toSpec(format: RawFormat | undefined, baseDir: string): FormatSpec {
  if (format === undefined) return JSON_FORMAT;
  return {
    type: format.type,
    ...(format.schema !== undefined ? { schema: resolve(baseDir, format.schema) } : {}),
    ...(format.message !== undefined ? { message: format.message } : {}),
    ...(format.subject !== undefined ? { subject: format.subject } : {}),
    ...(format.autoRegister !== undefined ? { autoRegister: format.autoRegister } : {}),
  };
}

/** The formats of every topic of a section: per-topic overrides over the section's formats over JSON. */
export function topicFormatsOf(raw: RawSection, baseDir: string): Record<string, TopicFormatSpecs> {
  const out: Record<string, TopicFormatSpecs> = {};
  for (const topic of raw.topics) {
    const override = raw.formats?.[topic];
    out[topic] = { key: toSpec(override?.key ?? raw.keyFormat, baseDir), value: toSpec(override?.value ?? raw.valueFormat, baseDir) };
  }
  return out;
}

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** `schemaRegistry` with `${ENV_VAR}` references in `url`, `username` and `password` resolved. */
export function resolveSchemaRegistry(
  raw: z.infer<typeof schemaRegistrySchema>,
  env: NodeJS.ProcessEnv,
): { config: SchemaRegistryConfig; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const resolveField = (field: 'url' | 'username' | 'password'): string | undefined => {
    const value = raw[field];
    return value?.replace(REFERENCE, (reference, variable: string) => {
      const replacement = env[variable];
      if (replacement === undefined) {
        issues.push({ path: `schemaRegistry.${field}`, message: `references environment variable ${variable}, which is not set` });
        return reference;
      }
      return replacement;
    });
  };
  const username = resolveField('username');
  const password = resolveField('password');
  return {
    config: {
      url: resolveField('url')!.replace(/\/+$/, ''),
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      maxRetries: raw.maxRetries,
      retryBackoffMs: raw.retryBackoffMs,
      retryMaxBackoffMs: raw.retryMaxBackoffMs,
      requestTimeoutMs: raw.requestTimeoutMs,
    },
    issues,
  };
}
