/**
 * Builds `avro`, `protobuf` and `json-schema` formats. Each format's module (and its
 * library: avsc, protobufjs, ajv) is loaded only when a topic uses it, so a worker reading
 * Avro does not pay for loading the other two at start-up.
 */
import { SchemaFileError } from '../errors/serialization-errors.js';
import type { Format, FormatSpec, FormatTarget } from './format.js';
import type { FormatDirection } from './topic-formats.js';
import type { SchemaRegistry } from './schema-registry.js';
import { readSchemaFile, subjectOf, type RegistryFormatOptions } from './registry-format-base.js';

export { subjectOf };

/** Builds a registry format; for writing, registers or looks up its schema. */
export async function createRegistryFormat(spec: FormatSpec, target: FormatTarget, direction: FormatDirection, registry: SchemaRegistry): Promise<Format> {
  const path = spec.schema;
  if (direction === 'write' && path === undefined) {
    // Config validation requires it; a thread given a spec without one is a bug.
    throw new SchemaFileError('(none)', spec.type, `writing ${target.field}s of ${target.topic} needs a schema`);
  }
  const options: RegistryFormatOptions = {
    spec,
    target,
    registry,
    subject: subjectOf(spec, target),
    local: path === undefined ? undefined : { text: await readSchemaFile(path, spec.type), path },
    write: direction === 'write',
  };
  switch (spec.type) {
    case 'avro':
      return (await import('./avro-format.js')).createAvroFormat(options);
    case 'protobuf':
      return (await import('./protobuf-format.js')).createProtobufFormat(options);
    case 'json-schema':
      return (await import('./json-schema-format.js')).createJsonSchemaFormat(options);
    default:
      throw new SchemaFileError(path ?? '(none)', spec.type, 'not a schema registry format');
  }
}
