import { WeirError } from './weir-error.js';

/** One problem found in a config: where (`log.backend`, or an env var) and what was expected. */
export interface ConfigIssue {
  /** Dotted field path, e.g. `log.backend`; empty for the whole document. */
  readonly path: string;
  /** What was wrong, e.g. `expected "local" or "kafka", got "kafak"`. Never contains a secret value. */
  readonly message: string;
}

/**
 * The config file (or the environment overriding it) is invalid. The message names the
 * source file and every offending field: `config error in /x/weir.yaml: log.backend: ...`.
 */
export class ConfigError extends WeirError {
  /** File (or other source name) the config came from. */
  readonly source: string;
  readonly issues: readonly ConfigIssue[];

  constructor(source: string, issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    const details = issues.map((issue) => (issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`));
    super('CONFIG_INVALID', `config error in ${source}: ${details.join('; ')}`, options);
    this.source = source;
    this.issues = issues;
  }
}

/** The config file does not exist (or is not a file). */
export class ConfigFileNotFoundError extends WeirError {
  readonly path: string;

  constructor(path: string, options?: { cause?: unknown }) {
    super('CONFIG_FILE_NOT_FOUND', `config file not found: ${path}`, options);
    this.path = path;
  }
}

/**
 * The configured log backend cannot be loaded (its module is missing or broken, or its
 * native client failed to load). Names the backend and the reason.
 */
export class LogBackendUnavailableError extends WeirError {
  readonly backend: string;
  readonly reason: string;

  constructor(backend: string, reason: string, options?: { cause?: unknown }) {
    super('LOG_BACKEND_UNAVAILABLE', `log backend "${backend}" is unavailable: ${reason}`, options);
    this.backend = backend;
    this.reason = reason;
  }
}
