/**
 * Live produce: a request body in the `weir produce` JSON Lines format (one record per
 * line, runtime/cli/input-record.ts), validated line by line by the same code as `weir
 * produce` (on the produce parser thread, produce-parser.ts), then appended in one call,
 * which on the local log is one atomic write: all of the request's records or none.
 *
 * The body is held in memory (its size is bounded by `server.bodyLimit`), never written
 * to a file.
 */
import { Readable } from 'node:stream';
import type { AppendRecord, LogBackend, LogProducer } from '../../shared/log/log-backend.js';
import { InvalidUtf8Lines, readInputLines } from '../cli/input-lines.js';
import { ensureTopic } from '../cli/commands/produce.js';
import { forEachRecord } from '../../shared/protocol/record-batch.js';
import type { EncodedBody } from './produce-batches.js';
import type { ProduceParser } from './produce-parser.js';

/**
 * Calls `visit` with every line of `body` and its 1-based number, with `weir produce`'s
 * input rules (runtime/cli/input-lines.ts: a leading BOM dropped, CRLF, a last line
 * without its newline); returns the warnings about lines that were not valid UTF-8, as
 * `weir produce` words them. What `visit` throws (an InputLineError) ends the walk.
 */
export async function forEachBodyLine(body: Uint8Array, visit: (text: string, lineNumber: number) => void): Promise<string[]> {
  const text = decodeWhole(body);
  if (text !== undefined) {
    // Fast path, the usual case: the body is valid UTF-8, so it is decoded once and split
    // as a string, with the same rules as readInputLines; an async step per line cost
    // ~20 µs each.
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      visit(line.endsWith('\r') ? line.slice(0, -1) : line, i + 1);
    }
    return [];
  }
  // Some line is not valid UTF-8: line by line, to name those lines as weir produce does.
  const invalidUtf8 = new InvalidUtf8Lines();
  for await (const line of readInputLines(Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)]))) {
    invalidUtf8.note(line);
    visit(line.text, line.lineNumber);
  }
  return invalidUtf8.warnings('request body');
}

/** Strict UTF-8 with the leading BOM dropped (as readInputLines drops it). */
const wholeBody = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function decodeWhole(body: Uint8Array): string | undefined {
  try {
    return wholeBody.decode(body);
  } catch {
    return undefined;
  }
}

/** Where live produce appends. */
export interface ProduceTarget {
  readonly backend: LogBackend;
  /** The server's producer, opened on first use (a Kafka job that is never produced to opens none). */
  readonly producer: () => Promise<LogProducer>;
  /** Partitions of a topic created by produce, unless the request says (config `partitions`). */
  readonly defaultPartitions: number;
  /** Parses and encodes bodies off the coordinator's event loop. */
  readonly parser: ProduceParser;
}

/**
 * The partition count `topic` has, or will have when produce creates it: what bodies are
 * partitioned for before anything is created (a bad body creates no topic). `undefined`
 * when the topic cannot be described (a bad name): the body is then encoded unpartitioned
 * and the append reports the error, after the body's own errors, as before.
 */
export async function expectedPartitions(target: ProduceTarget, topic: string, requested: number | undefined): Promise<number | undefined> {
  try {
    return (await target.backend.describeTopic(topic))?.partitions ?? requested ?? target.defaultPartitions;
  } catch {
    return undefined;
  }
}

/**
 * Appends an encoded body to `topic` (created if missing; an existing topic must match an
 * explicit `partitions`) in one append call. Partitioned batches are appended as they are
 * (`appendBatches`: the coordinator touches no record); unpartitioned ones as records,
 * so the backend places unkeyed records by its own rule. A body partitioned for another
 * count than the topic turned out to have (created meanwhile) is encoded again.
 */
export async function appendEncoded(
  target: ProduceTarget,
  topic: string,
  body: Uint8Array,
  encoded: EncodedBody,
  partitions: number | undefined,
): Promise<void> {
  const actual = await ensureTopic(target.backend, topic, partitions, target.defaultPartitions);
  if (encoded.count === 0) return;
  let current = encoded;
  if (current.partitions !== undefined && current.partitions !== actual) current = await target.parser.parse(body, actual);
  const producer = await target.producer();
  if (current.partitions !== undefined) {
    await producer.appendBatches(current.batches.map(({ partition, batch }) => ({ topic, partition: partition!, batch })));
    return;
  }
  const records: AppendRecord[] = [];
  for (const { batch } of current.batches) {
    forEachRecord(batch, 0, 0, (r) => records.push({ topic, key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp }));
  }
  await producer.append(records);
}
