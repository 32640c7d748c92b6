/** `schemaRegistry` in the config, validated and with `${ENV}` references resolved. */
export interface SchemaRegistryConfig {
  /** Base URL, e.g. `http://localhost:8081`. */
  readonly url: string;
  /** Basic auth (Confluent Cloud: the API key and secret). */
  readonly username?: string;
  readonly password?: string;
  /** Retries of a request that got no answer or a 408/429/5xx, with exponential backoff and jitter. */
  readonly maxRetries: number;
  /** First backoff, ms (doubles per retry up to `retryMaxBackoffMs`). */
  readonly retryBackoffMs: number;
  readonly retryMaxBackoffMs: number;
  /** Timeout of one request, ms. */
  readonly requestTimeoutMs: number;
}
