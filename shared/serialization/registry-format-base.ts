/**
 * What `avro`, `protobuf` and `json-schema` share (avro-format.ts, protobuf-format.ts,
 * json-schema-format.ts): values in the Schema Registry wire format,
 * encoded with avsc, protobufjs and plain JSON (validated by ajv). Reading fetches each
 * writer schema once by its id (in `prepare`, before a batch is processed) and decodes
 * synchronously afterwards; with a local reader schema, Avro resolves the writer's
 * schema to it (schema evolution), Protobuf decodes with it. Writing registers (or looks
 * up) the configured schema under the subject once, when the format is built.
 */
import { readFile } from 'node:fs/promises';
import { DeserializationError, SchemaFileError, SerializationError } from '../errors/serialization-errors.js';
import type { Format, FormatName, FormatSpec, FormatTarget } from './format.js';
import type { RegistrySchema, SchemaRegistry } from './schema-registry.js';

/** TopicNameStrategy: `<topic>-key` / `<topic>-value`, unless the spec names a subject. */
export function subjectOf(spec: FormatSpec, target: FormatTarget): string {
  return spec.subject ?? `${target.topic}-${target.field}`;
}

export async function readSchemaFile(path: string, format: FormatName): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new SchemaFileError(path, format, (error as Error).message, { cause: error });
  }
}

export function parseJsonSchemaText(text: string, path: string, format: FormatName): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new SchemaFileError(path, format, `invalid JSON: ${(error as Error).message}`, { cause: error });
  }
}

/** The id to write with: registered (autoRegister, the default) or looked up. */
export function writerId(registry: SchemaRegistry, spec: FormatSpec, target: FormatTarget, schema: RegistrySchema): Promise<number> {
  const subject = subjectOf(spec, target);
  return spec.autoRegister === false ? registry.lookup(subject, schema) : registry.register(subject, schema);
}

export abstract class RegistryFormat implements Format {
  abstract readonly name: FormatName;
  readonly lenient = false;
  constructor(protected readonly target: FormatTarget, private readonly writeId: number | undefined) {}
  abstract deserialize(bytes: Uint8Array): unknown;
  abstract serialize(value: unknown): Uint8Array;
  abstract prepare(bytes: Uint8Array): Promise<void> | undefined;
  sameEncodingAs(other: Format): boolean {
    return other === this;
  }
  protected idToWrite(): number {
    if (this.writeId === undefined) this.refuse('this topic is only read: it has no schema to write with');
    return this.writeId;
  }
  protected refuse(reason: string, cause?: unknown): never {
    throw new SerializationError(this.name, this.target.topic, this.target.field, reason, cause === undefined ? undefined : { cause });
  }
  /** Runs `decode`; whatever it throws that is not already a DeserializationError becomes one of this format. */
  protected decoding<T>(decode: () => T): T {
    try {
      return decode();
    } catch (error) {
      if (error instanceof DeserializationError) throw error;
      throw new DeserializationError(this.name, (error as Error).message, { cause: error });
    }
  }
}

/** A registry format built for a topic; `id` is the schema id to write with (undefined: read only). */
export interface RegistryFormatOptions {
  readonly spec: FormatSpec;
  readonly target: FormatTarget;
  readonly registry: SchemaRegistry;
  readonly subject: string;
  /** The local schema's text and path, when `schema` is configured. */
  readonly local: { readonly text: string; readonly path: string } | undefined;
  readonly write: boolean;
}
