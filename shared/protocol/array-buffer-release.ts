/**
 * Frees an `ArrayBuffer`'s memory at once instead of when the garbage collector finds it
 * dead (docs/data-plane.md rule 13).
 *
 * V8 frees a backing store only when a collection finds its `ArrayBuffer` unreachable, and
 * it starts a full collection for external memory only after ~64 MiB more of it: batches
 * that outlived a scavenge (outputs and changelogs waiting for their append, log reads
 * waiting for their copy into a batch set) piled up by tens of megabytes per thread, and
 * the allocator kept the space they were freed into. Transferring a buffer through a
 * closed `MessageChannel` detaches it, and its backing store is freed right away (once the
 * channel's close has taken effect, a turn of the event loop after this module loads;
 * buffers released before then are freed at that point).
 */

import { MessageChannel, type MessagePort } from 'node:worker_threads';

const closedPort: MessagePort = (() => {
  const channel = new MessageChannel();
  channel.port1.close();
  return channel.port2;
})();

/**
 * Frees `buffer` now; every view of it becomes empty. The caller must hold the only use
 * of its bytes. A `SharedArrayBuffer` or an already detached buffer is left alone.
 */
export function releaseArrayBuffer(buffer: ArrayBufferLike): void {
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength === 0) return;
  closedPort.postMessage(null, [buffer]);
}

/**
 * Frees the memory behind `view` when the view spans its whole `ArrayBuffer` (a buffer of
 * its own, such as a LevelDB read's copy); a view into a larger or pooled buffer is left
 * alone. Returns whether it was freed.
 */
export function releaseWholeView(view: Uint8Array): boolean {
  const { buffer } = view;
  if (!(buffer instanceof ArrayBuffer) || view.byteOffset !== 0 || view.byteLength !== buffer.byteLength || view.byteLength === 0) return false;
  releaseArrayBuffer(buffer);
  return true;
}
