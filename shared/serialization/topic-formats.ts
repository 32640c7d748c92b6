/**
 * The key and value formats of every topic a job reads or writes, built once per thread
 * (worker, CLI command) from the config. Topics without a configured format use JSON.
 */
import type { RecordField } from '../errors/serialization-errors.js';
import { JSON_TOPIC_FORMATS, REGISTRY_FORMATS, type Format, type FormatSpec, type FormatTarget, type TopicFormatSpecs } from './format.js';
import { BytesFormat, DoubleFormat, IntegerFormat, JsonFormat, StringFormat } from './plain-formats.js';
import type { SchemaRegistryConfig } from './schema-registry-config.js';
import type { SchemaRegistry } from './schema-registry.js';

/** The two formats of one topic. */
export interface TopicFormat {
  readonly key: Format;
  readonly value: Format;
}

/** Builds a plain (schema-less) format. */
function plainFormat(spec: FormatSpec, target: FormatTarget): Format | undefined {
  switch (spec.type) {
    case 'json':
      return new JsonFormat(target);
    case 'string':
      return new StringFormat(target);
    case 'bytes':
      return new BytesFormat(target);
    case 'integer':
      return new IntegerFormat(target);
    case 'double':
      return new DoubleFormat(target);
    default:
      return undefined;
  }
}

/** Where a registry format is used: reading (a reader schema is optional) or writing (a schema is registered). */
export type FormatDirection = 'read' | 'write';

/**
 * Builds the format of `spec` for `target`. Registry formats load their schema file,
 * and for writing register (or look up) it under the subject, once.
 */
export async function createFormat(
  spec: FormatSpec,
  target: FormatTarget,
  direction: FormatDirection,
  registry: () => Promise<SchemaRegistry>,
): Promise<Format> {
  const plain = plainFormat(spec, target);
  if (plain !== undefined) return plain;
  const { createRegistryFormat } = await import('./registry-formats.js');
  return createRegistryFormat(spec, target, direction, await registry());
}

/** The formats of a set of topics; unconfigured topics are JSON. */
export class TopicFormats {
  private readonly byTopic = new Map<string, TopicFormat>();
  private readonly jsonFormats = new Map<string, TopicFormat>();

  private constructor(private readonly registry: SchemaRegistry | undefined) {}

  /**
   * `read` / `write`: the topics this thread reads and writes, with their formats (a
   * topic in both is read and written with the same formats).
   */
  static async create(options: {
    readonly read: Readonly<Record<string, TopicFormatSpecs>>;
    readonly write: Readonly<Record<string, TopicFormatSpecs>>;
    readonly schemaRegistry?: SchemaRegistryConfig | undefined;
  }): Promise<TopicFormats> {
    let registry: Promise<SchemaRegistry> | undefined;
    const openRegistry = (): Promise<SchemaRegistry> => {
      if (options.schemaRegistry === undefined) throw new Error('a schema registry format needs schemaRegistry in the config');
      const config = options.schemaRegistry;
      registry ??= import('./schema-registry.js').then(({ SchemaRegistry }) => SchemaRegistry.open(config));
      return registry;
    };
    const build = async (topic: string, specs: TopicFormatSpecs, direction: FormatDirection): Promise<TopicFormat> => ({
      key: await createFormat(specs.key, { topic, field: 'key' }, direction, openRegistry),
      value: await createFormat(specs.value, { topic, field: 'value' }, direction, openRegistry),
    });
    const built = new Map<string, TopicFormat>();
    for (const [topic, specs] of Object.entries(options.read)) built.set(topic, await build(topic, specs, 'read'));
    for (const [topic, specs] of Object.entries(options.write)) {
      const usesRegistry = REGISTRY_FORMATS.has(specs.key.type) || REGISTRY_FORMATS.has(specs.value.type);
      // A topic both read and written keeps its reader; registry formats also need their writer.
      if (!built.has(topic) || usesRegistry) {
        const written = await build(topic, specs, 'write');
        const read = built.get(topic);
        built.set(topic, read === undefined ? written : { key: new ReadWrite(read.key, written.key), value: new ReadWrite(read.value, written.value) });
      }
    }
    const formats = new TopicFormats(registry === undefined ? undefined : await registry);
    for (const [topic, format] of built) formats.byTopic.set(topic, format);
    return formats;
  }

  /** A thread that only uses JSON topics (tests, tools). */
  static json(): TopicFormats {
    return new TopicFormats(undefined);
  }

  /** The formats of `topic` (JSON when it has none configured). */
  of(topic: string): TopicFormat {
    const configured = this.byTopic.get(topic);
    if (configured !== undefined) return configured;
    let json = this.jsonFormats.get(topic);
    if (json === undefined) {
      json = { key: new JsonFormat({ topic, field: 'key' }), value: new JsonFormat({ topic, field: 'value' }) };
      this.jsonFormats.set(topic, json);
    }
    return json;
  }

  /** The format of one field of `topic`. */
  format(topic: string, field: RecordField): Format {
    return this.of(topic)[field];
  }

  /** Lets the registry client go (its HTTP keep-alive sockets). */
  close(): void {
    this.registry?.close();
  }
}

/** A format read with one instance and written with another (a registry topic both read and written). */
class ReadWrite implements Format {
  constructor(private readonly reader: Format, private readonly writer: Format) {}
  get name() {
    return this.reader.name;
  }
  get lenient() {
    return this.reader.lenient;
  }
  deserialize(bytes: Uint8Array): unknown {
    return this.reader.deserialize(bytes);
  }
  serialize(value: unknown): Uint8Array {
    return this.writer.serialize(value);
  }
  prepare(bytes: Uint8Array): Promise<void> | undefined {
    return this.reader.prepare?.(bytes);
  }
  sameEncodingAs(other: Format): boolean {
    return this.writer.sameEncodingAs(other);
  }
}

export { JSON_TOPIC_FORMATS };
