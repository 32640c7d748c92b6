/**
 * `${NAME}` references are resolved only in secret fields (`log.clientProperties`,
 * `server.token`, the `schemaRegistry` URL and credentials; see secret-references.ts). Anywhere else one would be taken literally — `state.dir:
 * ${DATA}/state` would create a directory named `${DATA}` — so it is refused, naming the
 * field and the `WEIR_…` variable that sets the field from the environment instead.
 */
import type { ConfigIssue } from '../shared/errors/config-errors.js';

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/;

/** Fields whose `${NAME}` references are resolved (secrets). */
export const SECRET_FIELDS: readonly string[] = ['log.clientProperties', 'server.token', 'schemaRegistry.url', 'schemaRegistry.username', 'schemaRegistry.password'];

/** Fields whose strings are the user's data or resolved references, never refused. */
const EXEMPT = [...SECRET_FIELDS, 'bench.input.value'];

/** `state.ttlMaxEvictionsPerCheckpoint` → `WEIR_STATE__TTL_MAX_EVICTIONS_PER_CHECKPOINT`. */
function envNameOf(path: readonly string[]): string {
  return `WEIR_${path.map((key) => key.replace(/([A-Z])/g, '_$1').toUpperCase()).join('__')}`;
}

/** An issue for every string outside the exempt fields that holds a `${NAME}` reference. */
export function literalReferenceIssues(config: Readonly<Record<string, unknown>>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const visit = (value: unknown, path: string[], shown: string): void => {
    if (EXEMPT.includes(path.join('.'))) return;
    if (typeof value === 'string') {
      const match = REFERENCE.exec(value);
      if (match !== null) {
        issues.push({
          path: shown,
          message:
            `"\${${match[1]}}" is not replaced here (only the secret fields ${SECRET_FIELDS.join(', ')} resolve \${NAME}); ` +
            `set the field from the environment with ${envNameOf(path)} instead`,
        });
      }
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => visit(item, path, `${shown}[${index}]`));
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value)) visit(child, [...path, key], shown === '' ? key : `${shown}.${key}`);
    }
  };
  visit(config, [], '');
  return issues;
}
