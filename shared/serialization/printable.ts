/**
 * How tools print decoded keys and values as JSON (`weir topic dump`, `weir state dump`):
 * JSON-able values as they are, bytes (the `bytes` format, Avro `bytes` fields) as base64
 * under `<name>Base64`, so nothing is lost and a reader can tell the two apart.
 */

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** `value` with nested bytes as base64 strings (inside objects there is no `…Base64` name to use). */
function nestedPrintable(value: unknown): unknown {
  if (value instanceof Uint8Array) return base64(value);
  if (Array.isArray(value)) return value.map(nestedPrintable);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = nestedPrintable(v);
    return out;
  }
  return typeof value === 'bigint' ? value.toString() : value;
}

/** Sets `target[name]` to `value`, or `target[name + 'Base64']` when `value` is bytes. */
export function addPrintable(target: Record<string, unknown>, name: string, value: unknown): void {
  if (value instanceof Uint8Array) target[`${name}Base64`] = base64(value);
  else target[name] = nestedPrintable(value);
}

export { base64 as bytesToBase64 };
