/**
 * Writes lines to a stream in ~64 KiB chunks, waiting for `drain` when the stream's
 * buffer is full, so dumping millions of records neither floods memory nor makes one
 * write call per record.
 */
const CHUNK_BYTES = 64 * 1024;

export class LineWriter {
  private chunk: string[] = [];
  private chunkLength = 0;

  constructor(private readonly stream: NodeJS.WritableStream) {}

  /** Queues `line` (a newline is added); resolves once the stream can take more. */
  async write(line: string): Promise<void> {
    this.chunk.push(line);
    this.chunkLength += line.length + 1;
    if (this.chunkLength >= CHUNK_BYTES) await this.flush();
  }

  /** Writes what is queued and waits for the stream to drain if it asked to. */
  async flush(): Promise<void> {
    if (this.chunk.length === 0) return;
    const text = `${this.chunk.join('\n')}\n`;
    this.chunk = [];
    this.chunkLength = 0;
    if (!this.stream.write(text)) {
      await new Promise<void>((resolve) => this.stream.once('drain', resolve));
    }
  }
}
