/**
 * Environment overrides of config fields.
 *
 * Rule: a variable `WEIR_<PATH>` sets the field at `<PATH>`, where
 * - a double underscore `__` separates nesting levels, and
 * - inside one level, single underscores separate words of a camelCase name.
 *
 * So `WEIR_WORKERS=4` sets `workers`, `WEIR_COMMIT_INTERVAL=1` sets `commitInterval`,
 * `WEIR_LOG__BACKEND=kafka` sets `log.backend`, `WEIR_STATE__OPEN_MAX_RETRIES=3` sets
 * `state.openMaxRetries`.
 *
 * Values are strings, converted by the type the schema expects at that field: numbers
 * (`4`, `0.5`), booleans (`true`/`false`), lists (`a,b,c` or a JSON/YAML list
 * `["a","b"]`), mappings (JSON/YAML, e.g. `WEIR_LOG__CLIENT_PROPERTIES='{"acks":"all"}'`,
 * merged into the file's mapping); everything else stays a string. A value that does not
 * convert is left as the string so validation reports it, naming the variable.
 *
 * Environment values win over the file. If `WEIR_LOG__BACKEND` switches the backend,
 * the file's other `log` fields (which belong to the other backend) are dropped.
 * Relative paths from the environment resolve against the config file's directory,
 * like the file's own.
 *
 * A `WEIR_` variable that names no config field is an error (a typo must not be
 * ignored), except the variables weir uses for other purposes: `WEIR_DEBUG`,
 * `WEIR_CONFIG`, and any `WEIR_TEST_…`, `WEIR_BENCH_…` or `WEIR_INTERNAL_…`. `WEIR_BENCH__…`
 * (double underscore) is the `bench` section, like any other field.
 * Single librdkafka client properties (dotted names) cannot be set one by one; set
 * the whole mapping, or use `${ENV_VAR}` references in the file (see secret-references).
 */
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import type { ConfigIssue } from '../shared/errors/config-errors.js';

export const ENV_PREFIX = 'WEIR_';
const RESERVED_NAMES = new Set(['WEIR_DEBUG', 'WEIR_CONFIG']);
const RESERVED_PREFIXES = ['WEIR_TEST_', 'WEIR_BENCH_', 'WEIR_INTERNAL_'];
/** Overrides of the `bench` section (`WEIR_BENCH__RECORDS` → `bench.records`). */
export const BENCH_SECTION_PREFIX = 'WEIR_BENCH__';

/** Config path of an env variable name: `WEIR_LOG__CLIENT_PROPERTIES` → `["log","clientProperties"]`. */
export function envNameToPath(name: string): string[] {
  return name
    .slice(ENV_PREFIX.length)
    .split('__')
    .map((level) => level.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()));
}

/** True for `WEIR_` variables that are config overrides (not reserved for other uses). */
export function isConfigOverrideName(name: string): boolean {
  if (!name.startsWith(ENV_PREFIX) || RESERVED_NAMES.has(name)) return false;
  // `bench` is a config field too: only WEIR_BENCH_ with one underscore is reserved.
  if (name.startsWith(BENCH_SECTION_PREFIX)) return true;
  return !RESERVED_PREFIXES.some((prefix) => name.startsWith(prefix));
}

type SchemaDef = { type: string; [key: string]: unknown };

function defOf(schema: z.core.$ZodType): SchemaDef {
  return schema._zod.def as unknown as SchemaDef;
}

const WRAPPERS = new Set(['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch', 'nonoptional']);

function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if (WRAPPERS.has(def.type)) current = def['innerType'] as z.core.$ZodType;
    else if (def.type === 'pipe') current = def['in'] as z.core.$ZodType;
    else return current;
  }
}

function childSchema(schema: z.core.$ZodType, key: string): z.core.$ZodType | undefined {
  const inner = unwrap(schema);
  const def = defOf(inner);
  if (def.type === 'object') {
    const shape = def['shape'] as Record<string, z.core.$ZodType>;
    return Object.hasOwn(shape, key) ? shape[key] : undefined;
  }
  if (def.type === 'union') {
    for (const option of def['options'] as z.core.$ZodType[]) {
      const found = childSchema(option, key);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function fieldSchemaAt(root: z.core.$ZodType, path: readonly string[]): z.core.$ZodType | undefined {
  let current: z.core.$ZodType | undefined = root;
  for (const key of path) {
    if (current === undefined || key === '') return undefined;
    current = childSchema(current, key);
  }
  return current;
}

function parseStructured(raw: string): unknown {
  try {
    return parseYaml(raw) as unknown;
  } catch {
    return raw;
  }
}

/** Converts an env string to the kind of value the field's schema expects. */
function coerce(schema: z.core.$ZodType, raw: string): unknown {
  const type = defOf(unwrap(schema)).type;
  switch (type) {
    case 'number': {
      const trimmed = raw.trim();
      const value = Number(trimmed);
      return trimmed !== '' && Number.isFinite(value) ? value : raw;
    }
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    case 'array': {
      if (raw.trim().startsWith('[')) return parseStructured(raw);
      // Each item converted like a field of the element's type (`1,2,4` for a list of numbers).
      const element = defOf(unwrap(schema))['element'] as z.core.$ZodType | undefined;
      const items = raw.split(',').map((item) => item.trim()).filter((item) => item !== '');
      return element === undefined ? items : items.map((item) => coerce(element, item));
    }
    case 'object':
    case 'record':
      return parseStructured(raw);
    default:
      return raw;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mergeValue(existing: unknown, incoming: unknown): unknown {
  if (!isPlainObject(existing) || !isPlainObject(incoming)) return incoming;
  const merged: Record<string, unknown> = { ...existing };
  for (const [key, value] of Object.entries(incoming)) merged[key] = mergeValue(merged[key], value);
  return merged;
}

function setAt(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (!isPlainObject(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const leaf = path[path.length - 1] as string;
  node[leaf] = mergeValue(node[leaf], value);
}

export interface EnvOverrideResult {
  /** A new object: the file's config with overrides applied. */
  readonly config: Record<string, unknown>;
  /** Dotted field path → the variable that set it. */
  readonly sources: ReadonlyMap<string, string>;
  /** Variables that name no config field. */
  readonly issues: readonly ConfigIssue[];
}

/** Applies `WEIR_…` overrides from `env` to `fileConfig` (not mutated), guided by `schema`. */
export function applyEnvOverrides(
  fileConfig: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  schema: z.core.$ZodType,
): EnvOverrideResult {
  const config = structuredClone(fileConfig);
  const sources = new Map<string, string>();
  const issues: ConfigIssue[] = [];
  const overrides: { name: string; path: string[]; value: unknown }[] = [];

  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined || !isConfigOverrideName(name)) continue;
    const path = envNameToPath(name);
    const field = fieldSchemaAt(schema, path);
    if (field === undefined) {
      issues.push({ path: '', message: `environment variable ${name} names no config field ("${path.join('.')}")` });
      continue;
    }
    overrides.push({ name, path, value: coerce(field, raw) });
  }

  const backendOverride = overrides.find((o) => o.path.join('.') === 'log.backend');
  const fileLog = config['log'];
  if (backendOverride !== undefined && isPlainObject(fileLog) && fileLog['backend'] !== backendOverride.value) {
    config['log'] = {};
  }

  // Shallow paths first, so `WEIR_LOG` (a whole mapping) is refined by `WEIR_LOG__PATH`.
  overrides.sort((a, b) => a.path.length - b.path.length);
  for (const { name, path, value } of overrides) {
    setAt(config, path, value);
    sources.set(path.join('.'), name);
  }
  return { config, sources, issues };
}
