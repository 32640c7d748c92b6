/**
 * Streams workers' encoded outputs to the log as they arrive (at-least-once): batches
 * that arrive while an append runs are appended together by the next one, so the
 * coordinator makes one append call per burst, never one per record, and never decodes.
 *
 * A checkpoint commits source offsets only after {@link OutputStream.flushed}: every
 * output of a committed record is durable before its offset is. An appended batch's
 * memory is freed at once (the producer has no use of its bytes once the append resolved;
 * docs/data-plane.md rule 13).
 */
import type { AppendBatch, LogProducer } from '../shared/log/log-backend.js';
import type { EncodedBatch } from '../shared/protocol/worker-protocol.js';
import { releaseArrayBuffer } from '../shared/protocol/array-buffer-release.js';

export class OutputStream {
  private queue: EncodedBatch[] = [];
  private queuedBytes = 0;
  private running: Promise<void> | undefined;
  private failure: Error | undefined;
  private appendedRecords = 0;
  /** Records appended per topic (metrics). */
  readonly recordsByTopic = new Map<string, number>();

  constructor(
    private readonly producer: LogProducer,
    private readonly onError: (error: Error) => void,
  ) {}

  /** Bytes waiting for or in an append. */
  get pendingBytes(): number {
    return this.queuedBytes;
  }

  /** Records appended so far. */
  get records(): number {
    return this.appendedRecords;
  }

  append(batches: readonly EncodedBatch[]): void {
    if (this.failure !== undefined) return;
    for (const b of batches) {
      this.queue.push(b);
      this.queuedBytes += b.buffer.byteLength;
    }
    this.running ??= this.drain();
  }

  /** Resolves once everything handed to {@link append} so far is durable; rejects after a failed append. */
  async flushed(): Promise<void> {
    while (this.running !== undefined) await this.running;
    if (this.failure !== undefined) throw this.failure;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0 && this.failure === undefined) {
        const batches = this.queue;
        this.queue = [];
        const appends: AppendBatch[] = batches.map((b) => ({ topic: b.topic, partition: b.partition, batch: new Uint8Array(b.buffer) }));
        try {
          await this.producer.appendBatches(appends);
        } catch (error) {
          this.failure = error instanceof Error ? error : new Error(String(error));
          this.onError(this.failure);
          return;
        }
        for (const b of batches) {
          this.queuedBytes -= b.buffer.byteLength;
          this.appendedRecords += b.count;
          this.recordsByTopic.set(b.topic, (this.recordsByTopic.get(b.topic) ?? 0) + b.count);
          releaseArrayBuffer(b.buffer);
        }
      }
    } finally {
      this.running = undefined;
    }
  }
}
