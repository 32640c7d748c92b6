/**
 * The produce parser thread, the coordinator's side: one worker thread of its own (not
 * the job's worker pool, whose threads own partitions) that parses, validates and encodes
 * live-produce request bodies (produce-batches.ts). The coordinator shares its event
 * loop with the data plane and the queries; parsing a 10,000-line body there took tens
 * of milliseconds per request, during which nothing else ran.
 *
 * Started on first use, so a job that is never produced to starts no thread; requests
 * are answered in order. A thread that dies fails the requests it held and is started
 * again by the next one. The thread does not keep the process alive (`unref`).
 */
import { Worker } from 'node:worker_threads';
import { InputLineError } from '../cli/cli-errors.js';
import type { EncodedBody } from './produce-batches.js';
import type { ParseReply, ParseRequest } from './produce-parser-protocol.js';
import { ProduceParserError } from '../../shared/errors/server-errors.js';

const THREAD_FILE = new URL('./produce-parser-thread.js', import.meta.url);

interface Pending {
  readonly resolve: (body: EncodedBody) => void;
  readonly reject: (error: Error) => void;
}

/** Encodes request bodies on a thread of its own. */
export class ProduceParser {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  /**
   * `body` parsed, validated and encoded for a topic of `partitions` partitions (see
   * `encodeRecordsBody`); the bytes are copied, the caller's `body` is left as it was.
   * @throws InputLineError for a bad line, as `weir produce` words it.
   * @throws ProduceParserError when the thread fails.
   */
  parse(body: Uint8Array, partitions: number | undefined, now: number = Date.now()): Promise<EncodedBody> {
    if (this.closed) return Promise.reject(new ProduceParserError('the produce parser is closed'));
    const worker = this.thread();
    const id = this.nextId++;
    // A copy of its own to transfer: the request's buffer may be a slice of a shared pool.
    const copy = new Uint8Array(body.byteLength);
    copy.set(body);
    const request: ParseRequest = { id, body: copy.buffer, partitions, now };
    return new Promise<EncodedBody>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage(request, [copy.buffer]);
    });
  }

  /** Stops the thread; requests still pending fail. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new ProduceParserError('the produce parser is closed'));
    if (worker !== undefined) await worker.terminate();
  }

  private thread(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(THREAD_FILE);
    worker.unref();
    worker.on('message', (reply: ParseReply) => this.settle(reply));
    const died = (error: Error): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failAll(error);
    };
    worker.on('error', (error: Error) => died(new ProduceParserError(`the produce parser thread failed: ${error.message}`)));
    worker.on('exit', (code) => died(new ProduceParserError(`the produce parser thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private settle(reply: ParseReply): void {
    const pending = this.pending.get(reply.id);
    if (pending === undefined) return;
    this.pending.delete(reply.id);
    if (reply.ok) {
      pending.resolve({ count: reply.count, warnings: reply.warnings, partitions: reply.partitions, batches: reply.batches });
    } else if (reply.inputLine !== undefined) {
      pending.reject(new InputLineError(reply.inputLine.line, reply.inputLine.field, reply.inputLine.problem));
    } else {
      pending.reject(new ProduceParserError(reply.message ?? 'unknown failure', reply.stack));
    }
  }

  private failAll(error: Error): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(error);
  }
}
