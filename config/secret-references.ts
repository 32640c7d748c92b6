/**
 * Secrets in Kafka client properties.
 *
 * A string client property may contain `${ENV_VAR}` references (e.g.
 * `sasl.password: ${KAFKA_PASSWORD}`); they are replaced from the environment at load
 * time, after validation, so a secret never reaches a validation message. A reference
 * to an unset variable is a config error naming the property and the variable, never a
 * value. Only `log.clientProperties` is resolved; other fields are taken literally.
 *
 * {@link redactConfig} returns a copy safe to print or log.
 */
import type { ConfigIssue } from '../shared/errors/config-errors.js';
import { isSecretProperty } from '../shared/log/kafka/secret-redaction.js';
import type { WeirConfig } from './schema.js';

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * True when a client property name looks like it holds a secret: the Kafka backend's own
 * rule (README: password, secret, token, credential, private, jaas, key.pem,
 * oauthbearer.config), so {@link redactConfig} hides exactly what the backend's logs hide.
 */
export function isSecretPropertyName(name: string): boolean {
  return isSecretProperty(name);
}

export type ClientProperties = Record<string, string | number | boolean>;

/** Resolves `${ENV_VAR}` references in string values; reports unset variables. */
export function resolveSecretReferences(
  properties: Readonly<ClientProperties>,
  env: NodeJS.ProcessEnv,
): { resolved: ClientProperties; issues: ConfigIssue[] } {
  const resolved: ClientProperties = {};
  const issues: ConfigIssue[] = [];
  for (const [name, value] of Object.entries(properties)) {
    if (typeof value !== 'string') {
      resolved[name] = value;
      continue;
    }
    resolved[name] = value.replace(REFERENCE, (reference, variable: string) => {
      const replacement = env[variable];
      if (replacement === undefined) {
        issues.push({
          path: `log.clientProperties.${name}`,
          message: `references environment variable ${variable}, which is not set`,
        });
        return reference;
      }
      return replacement;
    });
  }
  return { resolved, issues };
}

/**
 * Resolves `${ENV_VAR}` references in one secret field (`server.token`); `path` names the
 * field in the issue for an unset variable.
 */
export function resolveSecretField(value: string, path: string, env: NodeJS.ProcessEnv): { resolved: string; issues: ConfigIssue[] } {
  const { resolved, issues } = resolveSecretReferences({ value }, env);
  return {
    resolved: resolved['value'] as string,
    issues: issues.map((issue) => ({ ...issue, path })),
  };
}

/** A copy of `config` with secret-looking client properties and the server token replaced by `"***"`. */
export function redactConfig(config: WeirConfig): WeirConfig {
  const redacted = redactClientProperties(config);
  return config.server?.token === undefined ? redacted : { ...redacted, server: { ...redacted.server, token: '***' } };
}

function redactClientProperties(config: WeirConfig): WeirConfig {
  if (config.log.backend !== 'kafka') return structuredClone(config);
  const clientProperties: ClientProperties = {};
  for (const [name, value] of Object.entries(config.log.clientProperties)) {
    clientProperties[name] = isSecretPropertyName(name) ? '***' : value;
  }
  return { ...structuredClone(config), log: { ...config.log, brokers: [...config.log.brokers], clientProperties } };
}
