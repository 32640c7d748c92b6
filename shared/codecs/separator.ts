/** The separator byte between key parts (`|`, 0x7C), as in Quix Streams' format. */
export const SEPARATOR = 0x7c;

/** The separator as a one-byte array. */
export const SEPARATOR_BYTES: Uint8Array = Uint8Array.of(SEPARATOR);

/** Concatenates byte arrays into one new `Uint8Array`. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
