/** `protobuf`: Protobuf in the registry wire format (message indexes after the id), with protobufjs. */
import protobuf from 'protobufjs';
import { DeserializationError, SchemaFileError } from '../errors/serialization-errors.js';
import type { Format } from './format.js';
import { RegistryFormat, writerId, type RegistryFormatOptions } from './registry-format-base.js';
import type { SchemaRegistry } from './schema-registry.js';
import type { FormatTarget } from './format.js';
import { HEADER_LENGTH, SchemaIdCache, schemaIdOf, withHeader } from './wire-format.js';


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
    return this.decoding(() => {
      const reader = protobuf.Reader.create(bytes.subarray(HEADER_LENGTH));
      const count = reader.sint32();
      const indexes = count === 0 ? [0] : Array.from({ length: count }, () => reader.sint32());
      const type = typeOf(indexes);
      return type.toObject(type.decode(reader), PROTO_OBJECT_OPTIONS);
    });
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


/** Builds `protobuf` for a topic; for writing, registers (or looks up) the local schema. */
export async function createProtobufFormat(o: RegistryFormatOptions): Promise<Format> {
  const root = o.local === undefined ? undefined : parseProto(o.local.text, o.local.path);
  const local = root === undefined ? undefined : chooseMessage(root, o.spec.message, o.local!.path);
  const id = o.write ? await writerId(o.registry, o.spec, o.target, { schema: o.local!.text, schemaType: 'PROTOBUF' }) : undefined;
  return new ProtobufFormat(o.target, o.registry, o.subject, local, id, root === undefined ? undefined : fileNamespace(root));
}
