/**
 * The Confluent Schema Registry wire format: magic byte 0, the schema id as a 4-byte
 * big-endian integer, then the payload (for Protobuf, message indexes come first; see
 * protobuf-format.ts). Every Kafka client with registry support reads and writes it.
 */
import { DeserializationError, SchemaRegistryRequestError } from '../errors/serialization-errors.js';

export const MAGIC_BYTE = 0;
export const HEADER_LENGTH = 5;

/** The schema id of wire-format bytes. @throws DeserializationError when there is no wire-format header. */
export function schemaIdOf(bytes: Uint8Array, format: string): number {
  if (bytes.length < HEADER_LENGTH) throw new DeserializationError(format, `expected the schema registry wire format (magic byte, 4-byte schema id), got ${bytes.length} bytes`);
  if (bytes[0] !== MAGIC_BYTE) throw new DeserializationError(format, `expected magic byte 0 of the schema registry wire format, got ${bytes[0]}`);
  return ((bytes[1]! << 24) | (bytes[2]! << 16) | (bytes[3]! << 8) | bytes[4]!) >>> 0;
}

/** The schema id of `bytes`, or undefined when they are not in the wire format (the error comes at deserialize). */
export function peekSchemaId(bytes: Uint8Array): number | undefined {
  if (bytes.length < HEADER_LENGTH || bytes[0] !== MAGIC_BYTE) return undefined;
  return ((bytes[1]! << 24) | (bytes[2]! << 16) | (bytes[3]! << 8) | bytes[4]!) >>> 0;
}

/** `header(id) | prefix | payload` in one new buffer. */
export function withHeader(id: number, payload: Uint8Array, prefix?: Uint8Array): Uint8Array {
  const prefixLength = prefix?.length ?? 0;
  const out = Buffer.allocUnsafe(HEADER_LENGTH + prefixLength + payload.length);
  out[0] = MAGIC_BYTE;
  out.writeUInt32BE(id, 1);
  if (prefix !== undefined) out.set(prefix, HEADER_LENGTH);
  out.set(payload, HEADER_LENGTH + prefixLength);
  return out;
}

/**
 * Reads wire-format bytes with a per-schema-id decoder fetched on first sight: `prepare`
 * fetches (deduplicated), `decoder` returns it synchronously.
 */
export class SchemaIdCache<T> {
  private readonly ready = new Map<number, T>();
  private readonly pending = new Map<number, Promise<void>>();
  /** Ids the registry refused (unknown id, wrong subject): their records fail to deserialize, named. */
  private readonly refused = new Map<number, SchemaRegistryRequestError>();
  private lastId = -1;
  private lastDecoder: T | undefined;

  constructor(private readonly fetch: (id: number) => Promise<T>) {}

  prepare(bytes: Uint8Array): Promise<void> | undefined {
    const id = peekSchemaId(bytes);
    if (id === undefined || id === this.lastId || this.ready.has(id) || this.refused.has(id)) return undefined;
    let pending = this.pending.get(id);
    if (pending === undefined) {
      pending = this.fetch(id).then(
        (decoder) => {
          this.ready.set(id, decoder);
          this.pending.delete(id);
        },
        (error: unknown) => {
          this.pending.delete(id);
          // An answer about this id is about the record; no answer stops the job (never a wrong value).
          if (error instanceof SchemaRegistryRequestError && error.status === 404) this.refused.set(id, error);
          else throw error;
        },
      );
      this.pending.set(id, pending);
    }
    return pending;
  }

  /** The decoder of `id`; `prepare` must have resolved for it. */
  decoder(id: number, format: string): T {
    // Most topics carry one schema id: skip the map lookups for a repeat.
    if (id === this.lastId) return this.lastDecoder!;
    const decoder = this.ready.get(id);
    const refused = this.refused.get(id);
    if (refused !== undefined) throw new DeserializationError(format, `schema id ${id}: ${refused.message}`, { cause: refused });
    if (decoder === undefined) throw new DeserializationError(format, `schema id ${id} was not fetched from the registry`);
    this.lastId = id;
    this.lastDecoder = decoder;
    return decoder;
  }
}
