/**
 * The round-trip conformance every format passes: what `serialize` writes,
 * `deserialize` reads back as the same value (property-tested with fast-check), and
 * `serialize` refuses what the format cannot hold with a SerializationError naming the
 * topic and field. Plain and registry formats run the same suite.
 */
import type { Test } from 'tap';
import fc from 'fast-check';
import type { Format } from '../../shared/serialization/format.js';
import { SerializationError } from '../../shared/errors/serialization-errors.js';

export interface ConformanceCase {
  readonly format: Format;
  /** Values the format holds. */
  readonly values: fc.Arbitrary<unknown>;
  /** What reading the written value gives (default: the value itself). */
  readonly expected?: (value: unknown) => unknown;
  /** Values the format must refuse to write. */
  readonly refused: readonly unknown[];
  /** Reads what `format` wrote (default `format`): a registry reader without a local schema fetches the writer's. */
  readonly reader?: Format;
}

export async function formatConformance(t: Test, name: string, c: ConformanceCase): Promise<void> {
  await t.test(`${name}: serialize then deserialize gives the value back`, async (t) => {
    await fc.assert(
      fc.asyncProperty(c.values, async (value) => {
        const bytes = c.format.serialize(value);
        if (!(bytes instanceof Uint8Array)) throw new Error('serialize must give bytes');
        const reader = c.reader ?? c.format;
        await reader.prepare?.(bytes);
        const back = reader.deserialize(bytes);
        const expected = c.expected ? c.expected(value) : value;
        if (!sameValue(back, expected)) throw new Error(`round trip changed ${show(expected)} into ${show(back)}`);
      }),
      { numRuns: 200 },
    );
    t.pass('round trips');
  });
  await t.test(`${name}: values it cannot hold are refused, naming topic and field`, async (t) => {
    for (const value of c.refused) {
      t.throws(() => c.format.serialize(value), SerializationError, `refuses ${show(value)}`);
      try {
        c.format.serialize(value);
      } catch (error) {
        t.match((error as Error).message, /the (key|value) of a record to \S+ as /);
      }
    }
  });
}

function show(value: unknown): string {
  if (value instanceof Uint8Array) return `bytes[${value.length}]`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Deep equality where NaN equals NaN, -0 differs from 0 for numbers, and bytes compare by content. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b);
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}
