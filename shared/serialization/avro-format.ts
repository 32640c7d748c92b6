/** `avro`: Avro binary in the registry wire format, with avsc; records become plain objects. */
import avro from 'avsc';
import { DeserializationError, SchemaFileError } from '../errors/serialization-errors.js';
import type { Format } from './format.js';
import { RegistryFormat, parseJsonSchemaText, writerId, type RegistryFormatOptions } from './registry-format-base.js';
import type { SchemaRegistry } from './schema-registry.js';
import type { FormatTarget } from './format.js';
import { HEADER_LENGTH, SchemaIdCache, schemaIdOf, withHeader } from './wire-format.js';


/**
 * The avsc type of `schema`, decoding records as plain objects: avsc decodes a record with
 * `new Record(…)` of a generated class, and the pipeline (and state, whose JSON serializer
 * takes plain objects only) needs plain ones. Giving each generated class Object.prototype
 * as its prototype makes them so at no cost per record (measured: copying each decoded
 * record instead costs about a third of the decoding).
 */
export function plainRecordType(schema: avro.Schema): avro.Type {
  const registry: Record<string, avro.Type> = {};
  const type = avro.Type.forSchema(schema, { registry, omitRecordMethods: true });
  for (const named of Object.values(registry)) {
    const constructor = (named as { recordConstructor?: { prototype: object } }).recordConstructor;
    if (constructor !== undefined) constructor.prototype = Object.prototype;
  }
  return type;
}

function avroType(schema: unknown, path: string): avro.Type {
  try {
    return plainRecordType(schema as avro.Schema);
  } catch (error) {
    throw new SchemaFileError(path, 'avro', (error as Error).message, { cause: error });
  }
}

type AvroDecoder = (payload: Buffer) => unknown;

class AvroFormat extends RegistryFormat {
  readonly name = 'avro';
  private readonly decoders: SchemaIdCache<AvroDecoder>;

  constructor(target: FormatTarget, registry: SchemaRegistry, subject: string, private readonly local: avro.Type | undefined, writeId: number | undefined) {
    super(target, writeId);
    this.decoders = new SchemaIdCache(async (id) => {
      const writer = await registry.schemaById(id, subject);
      const writerType = plainRecordType(JSON.parse(writer.schema) as avro.Schema);
      if (local === undefined) return (payload) => writerType.fromBuffer(payload);
      let resolver: avro.Resolver;
      try {
        resolver = local.createResolver(writerType);
      } catch (error) {
        // Not a compatible evolution: every record of this schema id fails, named.
        const reason = `writer schema id ${id} cannot be read with the configured reader schema: ${(error as Error).message}`;
        return () => {
          throw new DeserializationError('avro', reason, { cause: error });
        };
      }
      return (payload) => local.fromBuffer(payload, resolver);
    });
  }

  prepare(bytes: Uint8Array): Promise<void> | undefined {
    return this.decoders.prepare(bytes);
  }

  deserialize(bytes: Uint8Array): unknown {
    const decode = this.decoders.decoder(schemaIdOf(bytes, this.name), this.name);
    const payload = Buffer.from(bytes.buffer, bytes.byteOffset + HEADER_LENGTH, bytes.length - HEADER_LENGTH);
    return this.decoding(() => decode(payload));
  }

  serialize(value: unknown): Uint8Array {
    const id = this.idToWrite();
    const type = this.local!;
    let payload: Buffer;
    try {
      payload = type.toBuffer(value);
    } catch (error) {
      const paths: string[] = [];
      type.isValid(value, { errorHook: (path) => paths.push(path.join('.') || '(the value)') });
      this.refuse(`does not match the schema${paths.length > 0 ? ` at ${paths.join(', ')}` : ''}: ${(error as Error).message}`, error);
    }
    return withHeader(id, payload);
  }
}


/** Builds `avro` for a topic; for writing, registers (or looks up) the local schema. */
export async function createAvroFormat(o: RegistryFormatOptions): Promise<Format> {
  const local = o.local === undefined ? undefined : avroType(parseJsonSchemaText(o.local.text, o.local.path, 'avro'), o.local.path);
  const id = o.write ? await writerId(o.registry, o.spec, o.target, { schema: JSON.stringify(local!.schema()), schemaType: 'AVRO' }) : undefined;
  return new AvroFormat(o.target, o.registry, o.subject, local, id);
}
