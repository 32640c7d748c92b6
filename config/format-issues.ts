/**
 * Turns zod issues into {@link ConfigIssue}s that name the field and say what was
 * expected and what was found, e.g. `log.backend: expected "local" or "kafka", got "kafak"`.
 * Values under `log.clientProperties` are never echoed: they may be secrets.
 */
import type { z } from 'zod';
import type { ConfigIssue } from '../shared/errors/config-errors.js';

/** Dotted path of a zod issue path (`["log","backend"]` → `log.backend`, arrays as `[i]`). */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

function isSecretPath(path: readonly PropertyKey[]): boolean {
  return path[0] === 'log' && path[1] === 'clientProperties';
}

/** Short human description of a found value: `"kafak"`, `4`, `a list`, `nothing`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

function quotedAlternatives(values: readonly unknown[]): string {
  const quoted = values.map((v) => JSON.stringify(v));
  if (quoted.length <= 1) return quoted.join('');
  return `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
}

const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  record: 'a mapping',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
};

function expectedName(expected: string): string {
  return TYPE_NAMES[expected] ?? expected;
}

/** For a union of plain types (`string | number | boolean`): "a string, a number or true or false". */
function alternativesExpected(branches: readonly (readonly z.core.$ZodIssue[])[]): string | undefined {
  const names: string[] = [];
  for (const branch of branches) {
    const first = branch[0];
    if (branch.length !== 1 || first === undefined || first.code !== 'invalid_type' || first.path.length > 0) return undefined;
    names.push(expectedName(first.expected));
  }
  if (names.length === 0) return undefined;
  return names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

function lowerBound(issue: { minimum: number | bigint; inclusive?: boolean }): string {
  return `${issue.inclusive === false ? '>' : '≥'} ${String(issue.minimum)}`;
}

function upperBound(issue: { maximum: number | bigint; inclusive?: boolean }): string {
  return `${issue.inclusive === false ? '<' : '≤'} ${String(issue.maximum)}`;
}

function messageFor(issue: z.core.$ZodIssue, secret: boolean): { path: readonly PropertyKey[]; message: string } {
  const got = secret ? '' : `, got ${describeValue(issue.input)}`;
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return { path: issue.path, message: `required, expected ${expectedName(issue.expected)}` };
      return { path: issue.path, message: `expected ${expectedName(issue.expected)}${got}` };
    case 'invalid_value':
      return { path: issue.path, message: `expected ${quotedAlternatives(issue.values)}${got}` };
    case 'unrecognized_keys': {
      const keys = issue.keys.map((k) => JSON.stringify(k)).join(', ');
      return { path: issue.path, message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${keys}` };
    }
    case 'invalid_union': {
      const discriminated = issue as typeof issue & { discriminator?: string; options?: readonly unknown[] };
      if (discriminated.discriminator !== undefined && discriminated.options !== undefined) {
        // zod puts the discriminator in the path already; the input is the enclosing object.
        const input = issue.input as Record<string, unknown> | undefined;
        const found = secret ? '' : `, got ${describeValue(input?.[discriminated.discriminator])}`;
        return { path: issue.path, message: `expected ${quotedAlternatives(discriminated.options)}${found}` };
      }
      const expected = alternativesExpected(issue.errors);
      return { path: issue.path, message: `expected ${expected ?? 'another form'}${got}` };
    }
    case 'too_small':
      if (issue.origin === 'array') return { path: issue.path, message: `expected at least ${String(issue.minimum)} item(s)` };
      if (issue.origin === 'string') return { path: issue.path, message: 'expected a non-empty string' };
      return { path: issue.path, message: `expected a value ${lowerBound(issue)}${got}` };
    case 'too_big':
      return { path: issue.path, message: `expected a value ${upperBound(issue)}${got}` };
    case 'custom':
      return { path: issue.path, message: issue.message };
    default:
      return { path: issue.path, message: `${issue.message}${got}` };
  }
}

/**
 * Converts zod issues to config issues. `annotate` may append a note per path (used to
 * say which `WEIR_…` variable supplied a value).
 */
export function formatIssues(
  issues: readonly z.core.$ZodIssue[],
  annotate: (path: string) => string = () => '',
): ConfigIssue[] {
  return flattenUnions(issues).map((issue) => {
    const { path, message } = messageFor(issue, isSecretPath(issue.path));
    const dotted = formatPath(path);
    return { path: dotted, message: message + annotate(dotted) };
  });
}

/**
 * A non-discriminated union (`brokers: string[] | string`) whose input matched one
 * branch's type but failed inside it is reported as that branch's inner issues
 * (`log.brokers[1]: expected a string`), which says more than "no branch matched".
 */
function flattenUnions(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const out: z.core.$ZodIssue[] = [];
  for (const issue of issues) {
    if (issue.code === 'invalid_union' && !('discriminator' in issue)) {
      const deeper = issue.errors.filter((branch) => branch.length > 0 && branch.every((inner) => inner.path.length > 0));
      const only = deeper[0];
      if (deeper.length === 1 && only !== undefined) {
        out.push(...flattenUnions(only.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }))));
        continue;
      }
    }
    out.push(issue);
  }
  return out;
}
