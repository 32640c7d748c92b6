/** `json-schema`: JSON in the registry wire format, validated by ajv against the schema. */
import { Ajv, type ValidateFunction } from 'ajv';
import { DeserializationError, SchemaFileError } from '../errors/serialization-errors.js';
import type { Format } from './format.js';
import { RegistryFormat, parseJsonSchemaText, writerId, type RegistryFormatOptions } from './registry-format-base.js';
import type { SchemaRegistry } from './schema-registry.js';
import type { FormatTarget } from './format.js';
import { HEADER_LENGTH, SchemaIdCache, schemaIdOf, withHeader } from './wire-format.js';


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


/** Builds `json-schema` for a topic; for writing, registers (or looks up) the local schema. */
export async function createJsonSchemaFormat(o: RegistryFormatOptions): Promise<Format> {
  const schema = o.local === undefined ? undefined : parseJsonSchemaText(o.local.text, o.local.path, 'json-schema');
  const local = schema === undefined ? undefined : compileJsonSchema(schema, o.local!.path);
  const id = o.write ? await writerId(o.registry, o.spec, o.target, { schema: JSON.stringify(schema), schemaType: 'JSON' }) : undefined;
  return new JsonSchemaFormat(o.target, o.registry, o.subject, local, id);
}
