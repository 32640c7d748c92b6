/**
 * Base of every error weir raises on purpose. Each failure a caller can act on has
 * its own subclass carrying the context (path, topic, partition, field...), so
 * callers branch on `instanceof` or `code`, never on message text.
 */
export class WeirError extends Error {
  /** Stable machine-readable name, e.g. `STATE_TRANSACTION`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}
