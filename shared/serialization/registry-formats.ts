/**
 * `avro`, `protobuf` and `json-schema`: values in the Schema Registry wire format,
 * encoded with avsc, protobufjs and plain JSON (validated by ajv). Reading fetches each
 * writer schema once by its id (in `prepare`, before a batch is processed) and decodes
 * synchronously afterwards; with a local reader schema, Avro resolves the writer's
 * schema to it (schema evolution), Protobuf decodes with it. Writing registers (or looks
 * up) the configured schema under the subject once, when the format is built.
 */
import { readFile } from 'node:fs/promises';
import avro from 'avsc';
import protobuf from 'protobufjs';
import { Ajv, type ValidateFunction } from 'ajv';
import { DeserializationError, SchemaFileError, SerializationError } from '../errors/serialization-errors.js';
import type { Format, FormatName, FormatSpec, FormatTarget } from './format.js';
import type { FormatDirection } from './topic-formats.js';
import type { RegistrySchema, SchemaRegistry } from './schema-registry.js';
import { HEADER_LENGTH, SchemaIdCache, schemaIdOf, withHeader } from './wire-format.js';

/** TopicNameStrategy: `<topic>-key` / `<topic>-value`, unless the spec names a subject. */
export function subjectOf(spec: FormatSpec, target: FormatTarget): string {
  return spec.subject ?? `${target.topic}-${target.field}`;
}

async function readSchemaFile(path: string, format: FormatName): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new SchemaFileError(path, format, (error as Error).message, { cause: error });
  }
}

function parseJsonSchemaText(text: string, path: string, format: FormatName): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new SchemaFileError(path, format, `invalid JSON: ${(error as Error).message}`, { cause: error });
  }
}

/** The id to write with: registered (autoRegister, the default) or looked up. */
function writerId(registry: SchemaRegistry, spec: FormatSpec, target: FormatTarget, schema: RegistrySchema): Promise<number> {
  const subject = subjectOf(spec, target);
  return spec.autoRegister === false ? registry.lookup(subject, schema) : registry.register(subject, schema);
}

abstract class RegistryFormat implements Format {
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
}

// ---------------------------------------------------------------- Avro

function avroType(schema: unknown, path: string): avro.Type {
  try {
    return avro.Type.forSchema(schema as avro.Schema);
  } catch (error) {
    throw new SchemaFileError(path, 'avro', (error as Error).message, { cause: error });
  }
}

/**
 * avsc decodes records into instances of generated classes; the pipeline (and state,
 * whose JSON serializer takes plain objects only) gets plain objects. Bytes stay bytes.
 */
function plainAvro(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map(plainAvro);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = plainAvro((value as Record<string, unknown>)[key]);
  return out;
}

type AvroDecoder = (payload: Buffer) => unknown;

class AvroFormat extends RegistryFormat {
  readonly name = 'avro';
  private readonly decoders: SchemaIdCache<AvroDecoder>;

  constructor(target: FormatTarget, registry: SchemaRegistry, subject: string, private readonly local: avro.Type | undefined, writeId: number | undefined) {
    super(target, writeId);
    this.decoders = new SchemaIdCache(async (id) => {
      const writer = await registry.schemaById(id, subject);
      const writerType = avro.Type.forSchema(JSON.parse(writer.schema) as avro.Schema);
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
    try {
      return plainAvro(decode(payload));
    } catch (error) {
      if (error instanceof DeserializationError) throw error;
      throw new DeserializationError(this.name, (error as Error).message, { cause: error });
    }
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

// ---------------------------------------------------------------- Protobuf

function parseProto(text: string, source: string): protobuf.Root {
  try {
    return protobuf.parse(text, { keepCase: true }).root;
  } catch (error) {
    throw new SchemaFileError(source, 'protobuf', (error as Error).message, { cause: error });
  }
}

/** Message types of a namespace in declaration order (the registry's message indexes count them so). */
function messagesOf(namespace: protobuf.NamespaceBase): protobuf.Type[] {
  return namespace.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type);
}

/** The namespace holding a file's top-level messages (its package, or the root). */
function fileNamespace(root: protobuf.Root): protobuf.NamespaceBase {
  let namespace: protobuf.NamespaceBase = root;
  // A package `a.b` is nested namespaces a → b holding the messages.
  while (messagesOf(namespace).length === 0 && namespace.nestedArray.length === 1 && namespace.nestedArray[0] instanceof protobuf.Namespace) {
    namespace = namespace.nestedArray[0] as protobuf.Namespace;
  }
  return namespace;
}

/** The message a spec names, or the file's only top-level message. */
function chooseMessage(root: protobuf.Root, message: string | undefined, source: string): protobuf.Type {
  if (message !== undefined) {
    const found = root.lookup(message);
    if (!(found instanceof protobuf.Type)) throw new SchemaFileError(source, 'protobuf', `no message ${message} in the schema`);
    return found;
  }
  const top = messagesOf(fileNamespace(root));
  if (top.length !== 1) {
    throw new SchemaFileError(source, 'protobuf', `the schema declares ${top.length} top-level messages (${top.map((t) => t.name).join(', ')}); name one with "message"`);
  }
  return top[0]!;
}

/** The message indexes of `type` in its file: [i] for the i-th top-level message, [i, j] for its j-th nested one… */
function messageIndexes(type: protobuf.Type, file: protobuf.NamespaceBase): number[] {
  const path: number[] = [];
  let current: protobuf.ReflectionObject = type;
  while (current.parent !== null && current !== file) {
    const parent: protobuf.NamespaceBase = current.parent as protobuf.NamespaceBase;
    path.unshift(messagesOf(parent).indexOf(current as protobuf.Type));
    current = parent;
  }
  return path;
}

function zigzagVarint(values: readonly number[]): Uint8Array {
  const writer = protobuf.Writer.create();
  for (const v of values) writer.sint32(v);
  return writer.finish();
}

/** `[0]` is written as the single byte 0 (the registry's shorthand for the first message). */
function encodeIndexes(indexes: readonly number[]): Uint8Array {
  if (indexes.length === 1 && indexes[0] === 0) return new Uint8Array([0]);
  return zigzagVarint([indexes.length, ...indexes]);
}

const PROTO_OBJECT_OPTIONS: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: true };

class ProtobufFormat extends RegistryFormat {
  readonly name = 'protobuf';
  private readonly decoders: SchemaIdCache<(indexes: number[]) => protobuf.Type>;
  private readonly writePrefix: Uint8Array | undefined;

  constructor(target: FormatTarget, registry: SchemaRegistry, subject: string, private readonly local: protobuf.Type | undefined, writeId: number | undefined, file: protobuf.NamespaceBase | undefined) {
    super(target, writeId);
    this.writePrefix = local !== undefined && file !== undefined ? encodeIndexes(messageIndexes(local, file)) : undefined;
    this.decoders = new SchemaIdCache(async (id) => {
      if (local !== undefined) return () => local;
      const writer = await registry.schemaById(id, subject);
      const file = fileNamespace(parseProto(writer.schema, `schema id ${id}`));
      return (indexes) => {
        let namespace: protobuf.NamespaceBase = file;
        let type: protobuf.Type | undefined;
        for (const index of indexes) {
          type = messagesOf(namespace)[index];
          if (type === undefined) throw new DeserializationError('protobuf', `schema id ${id} has no message at indexes [${indexes.join(', ')}]`);
          namespace = type;
        }
        if (type === undefined) throw new DeserializationError('protobuf', `no message indexes`);
        return type;
      };
    });
  }

  prepare(bytes: Uint8Array): Promise<void> | undefined {
    return this.decoders.prepare(bytes);
  }

  deserialize(bytes: Uint8Array): unknown {
    const typeOf = this.decoders.decoder(schemaIdOf(bytes, this.name), this.name);
    try {
      const reader = protobuf.Reader.create(bytes.subarray(HEADER_LENGTH));
      const count = reader.sint32();
      const indexes = count === 0 ? [0] : Array.from({ length: count }, () => reader.sint32());
      const type = typeOf(indexes);
      return type.toObject(type.decode(reader), PROTO_OBJECT_OPTIONS);
    } catch (error) {
      if (error instanceof DeserializationError) throw error;
      throw new DeserializationError(this.name, (error as Error).message, { cause: error });
    }
  }

  serialize(value: unknown): Uint8Array {
    const id = this.idToWrite();
    const type = this.local!;
    if (value === null || typeof value !== 'object') this.refuse(`expected an object of message ${type.fullName.slice(1)}`);
    const problem = type.verify(value as Record<string, unknown>);
    if (problem !== null) this.refuse(`does not match message ${type.fullName.slice(1)}: ${problem}`);
    const payload = type.encode(type.fromObject(value as Record<string, unknown>)).finish();
    return withHeader(id, payload, this.writePrefix);
  }
}

// ---------------------------------------------------------------- JSON Schema

const ajv = new Ajv({ strict: false, allErrors: false });
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function compileJsonSchema(schema: unknown, source: string): ValidateFunction {
  try {
    return ajv.compile(schema as object);
  } catch (error) {
    throw new SchemaFileError(source, 'json-schema', (error as Error).message, { cause: error });
  }
}

function validationProblem(validate: ValidateFunction): string {
  const first = validate.errors?.[0];
  return first === undefined ? 'invalid' : `${first.instancePath === '' ? '(the value)' : first.instancePath} ${first.message ?? 'is invalid'}`;
}

class JsonSchemaFormat extends RegistryFormat {
  readonly name = 'json-schema';
  private readonly validators: SchemaIdCache<ValidateFunction>;

  constructor(target: FormatTarget, registry: SchemaRegistry, subject: string, private readonly local: ValidateFunction | undefined, writeId: number | undefined) {
    super(target, writeId);
    this.validators = new SchemaIdCache(async (id) => {
      if (local !== undefined) return local;
      const writer = await registry.schemaById(id, subject);
      return compileJsonSchema(JSON.parse(writer.schema) as unknown, `schema id ${id}`);
    });
  }

  prepare(bytes: Uint8Array): Promise<void> | undefined {
    return this.validators.prepare(bytes);
  }

  deserialize(bytes: Uint8Array): unknown {
    const validate = this.validators.decoder(schemaIdOf(bytes, this.name), this.name);
    let value: unknown;
    try {
      value = JSON.parse(strictUtf8.decode(bytes.subarray(HEADER_LENGTH))) as unknown;
    } catch (error) {
      throw new DeserializationError(this.name, `invalid JSON: ${(error as Error).message}`, { cause: error });
    }
    if (!validate(value)) throw new DeserializationError(this.name, `does not match the schema: ${validationProblem(validate)}`);
    return value;
  }

  serialize(value: unknown): Uint8Array {
    const id = this.idToWrite();
    if (!this.local!(value)) this.refuse(`does not match the schema: ${validationProblem(this.local!)}`);
    return withHeader(id, utf8.encode(JSON.stringify(value)));
  }
}

// ---------------------------------------------------------------- factory

/** Builds a registry format; for writing, registers or looks up its schema. */
export async function createRegistryFormat(spec: FormatSpec, target: FormatTarget, direction: FormatDirection, registry: SchemaRegistry): Promise<Format> {
  const subject = subjectOf(spec, target);
  const path = spec.schema;
  if (direction === 'write' && path === undefined) {
    // Config validation requires it; a thread given a spec without one is a bug.
    throw new SchemaFileError('(none)', spec.type, `writing ${target.field}s of ${target.topic} needs a schema`);
  }
  const text = path === undefined ? undefined : await readSchemaFile(path, spec.type);
  switch (spec.type) {
    case 'avro': {
      const local = text === undefined ? undefined : avroType(parseJsonSchemaText(text, path!, 'avro'), path!);
      const id = direction === 'write' ? await writerId(registry, spec, target, { schema: JSON.stringify(local!.schema()), schemaType: 'AVRO' }) : undefined;
      return new AvroFormat(target, registry, subject, local, id);
    }
    case 'protobuf': {
      const root = text === undefined ? undefined : parseProto(text, path!);
      const local = root === undefined ? undefined : chooseMessage(root, spec.message, path!);
      const id = direction === 'write' ? await writerId(registry, spec, target, { schema: text!, schemaType: 'PROTOBUF' }) : undefined;
      return new ProtobufFormat(target, registry, subject, local, id, root === undefined ? undefined : fileNamespace(root));
    }
    case 'json-schema': {
      const schema = text === undefined ? undefined : parseJsonSchemaText(text, path!, 'json-schema');
      const local = schema === undefined ? undefined : compileJsonSchema(schema, path!);
      const id = direction === 'write' ? await writerId(registry, spec, target, { schema: JSON.stringify(schema), schemaType: 'JSON' }) : undefined;
      return new JsonSchemaFormat(target, registry, subject, local, id);
    }
    default:
      throw new SchemaFileError(path ?? '(none)', spec.type, 'not a schema registry format');
  }
}
