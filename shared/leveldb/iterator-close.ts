/**
 * Closing a classic-level iterator without leaving its last chunk in native memory.
 *
 * classic-level keeps the entries of an iterator's last `nextv` as native copies (one
 * `std::string` per key and value, beside the JavaScript buffers it hands out) until the
 * next `nextv` replaces them or the iterator object is garbage-collected; `close()` does
 * not free them, and a `nextv` after the end never reaches the native side. An iterator
 * that lives across an `await` is promoted out of V8's young generation, so that copy
 * waits for a full collection, which a job whose live heap barely grows seldom runs: the
 * count job's log reads kept up to ~130 MB of such copies (docs/data-plane.md, rule 11).
 */

/** Below this, the native copy of a last chunk is left to the garbage collector: releasing costs a round trip. */
export const RELEASE_AT_BYTES = 64 * 1024;

/** The part of a classic-level iterator the release needs. */
export interface ReleasableIterator<K> {
  seek(target: K): void;
  nextv(size: number): Promise<unknown>;
  close(): Promise<void>;
}

/** Bytes of the keys and values of one `nextv` chunk: what classic-level holds natively for it. */
export function chunkBytes(entries: readonly (readonly [Uint8Array, Uint8Array])[]): number {
  let bytes = 0;
  for (const [key, value] of entries) bytes += key.byteLength + value.byteLength;
  return bytes;
}

/**
 * Closes `iterator`. When its last chunk held at least {@link RELEASE_AT_BYTES}, first seeks
 * it to `outside` (a key outside its range, so the next read is empty) and reads once, which
 * replaces the native copy of that chunk with nothing. A failure of the release is ignored
 * (it only frees memory early); `close()` reports its own.
 */
export async function closeIterator<K>(iterator: ReleasableIterator<K>, lastChunkBytes: number, outside: K): Promise<void> {
  if (lastChunkBytes >= RELEASE_AT_BYTES) {
    try {
      iterator.seek(outside);
      await iterator.nextv(1);
    } catch {
      // The copy is then freed with the iterator object, as without the release.
    }
  }
  await iterator.close();
}
