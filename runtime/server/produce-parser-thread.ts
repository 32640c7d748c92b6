/**
 * The produce parser thread's entry (loaded by produce-parser.ts): encodes request
 * bodies with `encodeRecordsBody` one message at a time and answers with the batches
 * (their buffers transferred) or the validation error's parts.
 */
import { parentPort } from 'node:worker_threads';
import { InputLineError } from '../cli/cli-errors.js';
import { encodeRecordsBody } from './produce-batches.js';
import type { ParseReply, ParseRequest } from './produce-parser-protocol.js';

const port = parentPort;
if (port === null) throw new Error('produce-parser-thread.js runs as a worker thread only');

port.on('message', (request: ParseRequest) => {
  void answer(request).then(({ reply, transfer }) => port.postMessage(reply, transfer));
});

async function answer(request: ParseRequest): Promise<{ reply: ParseReply; transfer: ArrayBuffer[] }> {
  try {
    const encoded = await encodeRecordsBody(new Uint8Array(request.body), request.partitions, request.now);
    // Each batch's bytes in a buffer of its own, so the transfer moves exactly them.
    const batches = encoded.batches.map(({ partition, batch }) => ({
      partition,
      batch: batch.byteLength === batch.buffer.byteLength ? batch : batch.slice(),
    }));
    return {
      reply: { id: request.id, ok: true, count: encoded.count, warnings: encoded.warnings, partitions: encoded.partitions, batches },
      transfer: batches.map((b) => b.batch.buffer as ArrayBuffer),
    };
  } catch (error) {
    if (error instanceof InputLineError) {
      return { reply: { id: request.id, ok: false, inputLine: { line: error.line, field: error.field, problem: error.problem } }, transfer: [] };
    }
    const message = error instanceof Error ? error.message : String(error);
    return { reply: { id: request.id, ok: false, message, ...(error instanceof Error && error.stack !== undefined ? { stack: error.stack } : {}) }, transfer: [] };
  }
}
