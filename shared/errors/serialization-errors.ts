import { WeirError } from './weir-error.js';

/** Which half of a record a format applies to. */
export type RecordField = 'key' | 'value';

/**
 * Bytes a format cannot read (thrown by a format's `deserialize`; the worker wraps it in
 * {@link RecordDeserializationError} with the record's position).
 */
export class DeserializationError extends WeirError {
  constructor(readonly format: string, readonly reason: string, options?: { cause?: unknown }) {
    super('DESERIALIZATION_FAILED', `cannot read ${format}: ${reason}`, options);
  }
}

/** A value a format cannot write (a number for `string`, an object missing a schema field…). */
export class SerializationError extends WeirError {
  constructor(readonly format: string, readonly topic: string, readonly field: RecordField, readonly reason: string, options?: { cause?: unknown }) {
    super('SERIALIZATION_FAILED', `cannot write the ${field} of a record to ${topic} as ${format}: ${reason}`, options);
  }
}

/** A record of an input topic that its configured format cannot read; follows the job's error policy. */
export class RecordDeserializationError extends WeirError {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    readonly field: RecordField,
    readonly format: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super('RECORD_DESERIALIZATION_FAILED', `cannot deserialize the ${field} of ${topic}[${partition}] offset ${offset} as ${format}: ${reason}`, options);
  }
}

/** The schema registry did not answer (connection refused, timeout, 5xx) after the configured retries with backoff. */
export class SchemaRegistryUnreachableError extends WeirError {
  constructor(readonly url: string, readonly operation: string, readonly attempts: number, reason: string, options?: { cause?: unknown }) {
    super('SCHEMA_REGISTRY_UNREACHABLE', `schema registry ${url} unreachable (${operation}, ${attempts} attempts with backoff): ${reason}`, options);
  }
}

/** The schema registry answered with an error (unknown schema id or subject, incompatible schema, bad credentials). */
export class SchemaRegistryRequestError extends WeirError {
  constructor(readonly url: string, readonly operation: string, readonly status: number | undefined, reason: string, options?: { cause?: unknown }) {
    super('SCHEMA_REGISTRY_REQUEST', `schema registry ${url} refused ${operation}${status === undefined ? '' : ` (HTTP ${status})`}: ${reason}`, options);
  }
}

/** A schema file of a format (`schema:` in the config) cannot be read or parsed. */
export class SchemaFileError extends WeirError {
  constructor(readonly path: string, readonly format: string, reason: string, options?: { cause?: unknown }) {
    super('SCHEMA_FILE', `cannot use ${format} schema ${path}: ${reason}`, options);
  }
}
