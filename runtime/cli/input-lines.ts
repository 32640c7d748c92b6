/**
 * Lines of a JSON Lines input (`weir produce` stdin, `weir bench --input`), split on the
 * bytes rather than by readline so that each line's UTF-8 can be checked on its own:
 * - a UTF-8 byte order mark at the start of the input is dropped (editors on Windows
 *   write one; JSON.parse would otherwise fail on line 1 with "Unexpected token");
 * - a line that is not valid UTF-8 is decoded with U+FFFD for the bad bytes, as before,
 *   but marked, so the caller can warn naming the line instead of changing data silently.
 * Lines end at `\n`; a `\r` before it is dropped (CRLF files).
 */
import type { Readable } from 'node:stream';

/** A line of input with its 1-based number. */
export interface NumberedLine {
  readonly text: string;
  readonly lineNumber: number;
}

/** A line as read, with whether its bytes were valid UTF-8. */
export interface InputLine extends NumberedLine {
  /** False when invalid byte sequences were replaced by U+FFFD. */
  readonly validUtf8: boolean;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });

function decodeLine(bytes: Buffer, lineNumber: number): InputLine {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN ? bytes.length - 1 : bytes.length;
  const body = bytes.subarray(0, end);
  try {
    return { text: strictUtf8.decode(body), lineNumber, validUtf8: true };
  } catch {
    return { text: lenientUtf8.decode(body), lineNumber, validUtf8: false };
  }
}

/** The lines of `input` (see the module comment). */
export async function* readInputLines(input: Readable): AsyncGenerator<InputLine> {
  let pending: Buffer[] = [];
  let lineNumber = 0;
  // The first bytes are held until there are enough to tell whether they are a BOM
  // (a pipe may deliver them one at a time).
  let head: Buffer | undefined = Buffer.alloc(0);
  function* split(bytes: Buffer): Generator<InputLine> {
    let start = 0;
    for (let end = bytes.indexOf(NEWLINE, start); end >= 0; end = bytes.indexOf(NEWLINE, start)) {
      const piece = bytes.subarray(start, end);
      const line = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
      pending = [];
      lineNumber += 1;
      yield decodeLine(line, lineNumber);
      start = end + 1;
    }
    if (start < bytes.length) pending.push(bytes.subarray(start));
  }
  const withoutBom = (bytes: Buffer): Buffer => (bytes.subarray(0, BOM.length).equals(BOM) ? bytes.subarray(BOM.length) : bytes);
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer);
    if (head !== undefined) {
      head = Buffer.concat([head, bytes]);
      if (head.length < BOM.length) continue;
      const first = withoutBom(head);
      head = undefined;
      yield* split(first);
      continue;
    }
    yield* split(bytes);
  }
  if (head !== undefined) yield* split(withoutBom(head));
  if (pending.length > 0) {
    lineNumber += 1;
    yield decodeLine(Buffer.concat(pending), lineNumber);
  }
}

/** Most invalid-UTF-8 lines named one by one; the rest are counted. */
const NAMED_LINES = 10;

/**
 * Collects the lines that were not valid UTF-8 and words the warnings: the first ten by
 * number, then how many more.
 */
export class InvalidUtf8Lines {
  readonly #lines: number[] = [];
  #count = 0;

  note(line: InputLine): void {
    if (line.validUtf8) return;
    this.#count += 1;
    if (this.#lines.length < NAMED_LINES) this.#lines.push(line.lineNumber);
  }

  get count(): number {
    return this.#count;
  }

  /** One warning per named line, and one for the rest; empty when every line was valid. */
  warnings(source: string): string[] {
    const out = this.#lines.map((n) => `${source} line ${n} is not valid UTF-8; its invalid bytes were replaced by U+FFFD`);
    const more = this.#count - this.#lines.length;
    if (more > 0) out.push(`${more} more line(s) of ${source} are not valid UTF-8 (invalid bytes replaced by U+FFFD)`);
    return out;
  }
}
