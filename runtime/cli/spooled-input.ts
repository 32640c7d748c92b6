/**
 * Validate-then-append support for `weir produce`.
 *
 * Nothing may be appended if any line is malformed, and inputs of millions of lines
 * must work, so the input is read twice without holding it in memory: the first pass
 * validates every line while copying the input to a temporary file; only when all
 * lines are valid does a second pass read the copy back and append. Memory stays
 * O(batch); the cost is one extra sequential write and read of the input on local
 * disk (in `os.tmpdir()`), deleted afterwards.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { InvalidUtf8Lines, readInputLines, type NumberedLine } from './input-lines.js';

export type { NumberedLine } from './input-lines.js';

/** The validated copy of an input. */
export interface SpooledInput {
  /** Lines `validate` accepted as records (it returned true). */
  readonly records: number;
  /** Lines of the input that were not valid UTF-8 (the copy holds them with U+FFFD). */
  readonly invalidUtf8: InvalidUtf8Lines;
  /** The input's lines again, in order. */
  lines(): AsyncIterable<NumberedLine>;
  /** Deletes the copy. */
  dispose(): Promise<void>;
}

const WRITE_BATCH_LINES = 1000;

async function writeChunk(out: WriteStream, lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  if (!out.write(`${lines.join('\n')}\n`)) await new Promise<void>((resolve) => out.once('drain', resolve));
}

/**
 * Reads `input` to the end, calling `validate` on every line (it throws on a bad line,
 * returns whether the line is a record) and copying it to a temporary file.
 * If `validate` throws, the copy is deleted and the error propagates.
 */
export async function spoolAndValidate(
  input: Readable,
  validate: (line: NumberedLine) => boolean,
): Promise<SpooledInput> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-produce-'));
  const file = join(dir, 'input.jsonl');
  const dispose = (): Promise<void> => rm(dir, { recursive: true, force: true });
  const out = createWriteStream(file);
  let records = 0;
  const invalidUtf8 = new InvalidUtf8Lines();
  try {
    let pending: string[] = [];
    for await (const line of readInputLines(input)) {
      invalidUtf8.note(line);
      if (validate(line)) records += 1;
      pending.push(line.text);
      if (pending.length >= WRITE_BATCH_LINES) {
        await writeChunk(out, pending);
        pending = [];
      }
    }
    await writeChunk(out, pending);
    out.end();
    await finished(out);
  } catch (error) {
    out.destroy();
    await dispose();
    throw error;
  }
  return {
    records,
    invalidUtf8,
    lines: () => readInputLines(createReadStream(file)),
    dispose,
  };
}
