/**
 * Live produce: a request body in the `weir produce` JSON Lines format (one record per
 * line, runtime/cli/input-record.ts), validated line by line by the same code as `weir
 * produce`, then appended in one call, which on the local log is one atomic write: all
 * of the request's records or none.
 *
 * The body is held in memory (its size is bounded by `server.bodyLimit`), never written
 * to a file.
 */
import { Readable } from 'node:stream';
import type { AppendRecord, LogBackend, LogProducer } from '../../shared/log/log-backend.js';
import { InvalidUtf8Lines, readInputLines } from '../cli/input-lines.js';
import { parseInputLine } from '../cli/input-record.js';
import { ensureTopic } from '../cli/commands/produce.js';

/** The records of a request body and the warnings about it. */
export interface ParsedBody {
  readonly records: AppendRecord[];
  /** Lines that were not valid UTF-8 (their bad bytes became U+FFFD), as `weir produce` words them. */
  readonly warnings: string[];
}

/**
 * Every line of `body` as a record for `topic`.
 * @throws InputLineError naming the first bad line and its field.
 */
export async function parseRecordsBody(body: Uint8Array, topic: string): Promise<ParsedBody> {
  const text = decodeWhole(body);
  if (text !== undefined) {
    // Fast path, the usual case: the body is valid UTF-8, so it is decoded once and split
    // as a string, with the same rules as readInputLines (BOM dropped, CRLF, a last line
    // without its newline); an async step per line cost ~20 µs each.
    const records: AppendRecord[] = [];
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const record = parseInputLine(line.endsWith('\r') ? line.slice(0, -1) : line, i + 1, topic);
      if (record !== undefined) records.push(record);
    }
    return { records, warnings: [] };
  }
  // Some line is not valid UTF-8: line by line, to name those lines as weir produce does.
  const invalidUtf8 = new InvalidUtf8Lines();
  const records: AppendRecord[] = [];
  for await (const line of readInputLines(Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)]))) {
    invalidUtf8.note(line);
    const record = parseInputLine(line.text, line.lineNumber, topic);
    if (record !== undefined) records.push(record);
  }
  return { records, warnings: invalidUtf8.warnings('request body') };
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
}

/**
 * Appends `records` to `topic` (created if missing; an existing topic must match an
 * explicit `partitions`), in one append call.
 */
export async function appendAll(
  target: ProduceTarget,
  topic: string,
  records: readonly AppendRecord[],
  partitions: number | undefined,
): Promise<void> {
  await ensureTopic(target.backend, topic, partitions, target.defaultPartitions);
  if (records.length > 0) await (await target.producer()).append(records);
}
