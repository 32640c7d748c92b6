/**
 * The Confluent Schema Registry, through `@confluentinc/schemaregistry`'s client: its
 * caches (schema by id, id by schema), retries with exponential backoff and jitter on
 * no answer or 408/429/5xx, and auth. This module only maps its failures to weir's
 * named errors. The client is imported from its own file: the package's index also
 * loads the cloud KMS drivers of its rule executors (about 2 s of start-up) that weir
 * does not use.
 */
import { createRequire } from 'node:module';
import {
  SchemaRegistryRequestError,
  SchemaRegistryUnreachableError,
} from '../errors/serialization-errors.js';
import type { SchemaRegistryConfig } from './schema-registry-config.js';

/** A schema as the registry holds it. */
export interface RegistrySchema {
  readonly schema: string;
  /** `AVRO` when absent (the registry's default), `PROTOBUF`, `JSON`. */
  readonly schemaType?: string;
}

interface Client {
  register(subject: string, schema: RegistrySchema, normalize: boolean): Promise<number>;
  getId(subject: string, schema: RegistrySchema, normalize: boolean): Promise<number>;
  getBySubjectAndId(subject: string, id: number, format?: string): Promise<RegistrySchema>;
  close(): void;
}

interface ClientModule {
  SchemaRegistryClient: new (config: Record<string, unknown>) => Client;
}

const require = createRequire(import.meta.url);

export class SchemaRegistry {
  private constructor(private readonly client: Client, private readonly config: SchemaRegistryConfig) {}

  static open(config: SchemaRegistryConfig): SchemaRegistry {
    const { SchemaRegistryClient } = require('@confluentinc/schemaregistry/dist/schemaregistry-client.js') as ClientModule;
    const client = new SchemaRegistryClient({
      baseURLs: [config.url],
      cacheCapacity: 10_000,
      maxRetries: config.maxRetries,
      retriesWaitMs: config.retryBackoffMs,
      retriesMaxWaitMs: config.retryMaxBackoffMs,
      createAxiosDefaults: { timeout: config.requestTimeoutMs },
      ...(config.username !== undefined
        ? { basicAuthCredentials: { credentialsSource: 'USER_INFO', userInfo: `${config.username}:${config.password ?? ''}` } }
        : {}),
    });
    return new SchemaRegistry(client, config);
  }

  /** The base URL (errors name it). */
  get url(): string {
    return this.config.url;
  }

  /** The schema with `id` (cached after the first call). */
  schemaById(id: number, subject: string): Promise<RegistrySchema> {
    return this.call(`get schema id ${id}`, () => this.client.getBySubjectAndId(subject, id));
  }

  /** Registers `schema` under `subject` (the registry answers the existing id when it is there already). */
  register(subject: string, schema: RegistrySchema): Promise<number> {
    return this.call(`register a schema under subject ${subject}`, () => this.client.register(subject, schema, false));
  }

  /** The id of `schema` under `subject`, which must be registered. */
  lookup(subject: string, schema: RegistrySchema): Promise<number> {
    return this.call(`look up a schema under subject ${subject}`, () => this.client.getId(subject, schema, false));
  }

  close(): void {
    this.client.close();
  }

  private async call<T>(operation: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      const status = (error as { status?: unknown; response?: { status?: unknown } }).status ?? (error as { response?: { status?: unknown } }).response?.status;
      const message = error instanceof Error ? error.message : String(error);
      if (typeof status === 'number' && status > 0 && status < 500 && status !== 408 && status !== 429) {
        throw new SchemaRegistryRequestError(this.config.url, operation, status, message, { cause: error });
      }
      throw new SchemaRegistryUnreachableError(this.config.url, operation, this.config.maxRetries + 1, message, { cause: error });
    }
  }
}
