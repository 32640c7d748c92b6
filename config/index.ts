/**
 * weir configuration: one YAML or JSON file, validated, with `WEIR_…` environment
 * overrides (rule in env-overrides.ts), documented defaults (defaults.ts), paths
 * relative to the config file, and `${ENV_VAR}` secrets in Kafka client properties
 * (secret-references.ts).
 */
export { loadConfig, parseConfig, CONFIG_EXTENSIONS } from './load-config.js';
export { CONFIG_DEFAULTS, MAX_PARTITIONS, MAX_WORKERS, defaultWorkers } from './defaults.js';
export { envNameToPath, isConfigOverrideName, ENV_PREFIX } from './env-overrides.js';
export { redactConfig, isSecretPropertyName } from './secret-references.js';
export { weirConfigSchema } from './schema.js';
export type { WeirConfig, LogConfig, LocalLogConfig, KafkaLogConfig, StateConfig, ServerConfig, LoggingConfig } from './schema.js';
export { ConfigError, ConfigFileNotFoundError, type ConfigIssue } from '../shared/errors/config-errors.js';
