/**
 * How a stored key reads back as a message key and a state key, for `weir state dump`
 * and interactive queries (docs/server.md): the stored key is `prefix|stateKey` where the
 * state key is JSON and the prefix is the record's key bytes.
 */
import { SEPARATOR, parseWindowKey } from '../../shared/codecs/index.js';

export const decoder = new TextDecoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

export function parseJson(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(decoder.decode(bytes)) };
  } catch {
    return { ok: false };
  }
}

/**
 * A message key that is not JSON as text: valid UTF-8 without control characters (a
 * plain-text Kafka key such as `user-1`); undefined for binary keys.
 */
export function plainText(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = strictDecoder.decode(bytes);
  } catch {
    return undefined;
  }
  return text.length > 0 && !/[\u0000-\u001f\u007f]/.test(text) ? text : undefined;
}

/**
 * Split a stored key `prefix|stateKey` back into its parts. State keys are JSON, and
 * message keys are the record's key bytes: usually JSON too (the first separator where
 * both sides are JSON wins; a JSON string prefix may itself contain `|`), but plain
 * text in the usual Kafka case, where the first separator whose right side is JSON and
 * whose left side is text wins (the text may contain `|` too).
 */
export function splitStoredKey(key: Uint8Array): { key: unknown; stateKey: unknown } {
  for (let i = key.indexOf(SEPARATOR); i >= 0; i = key.indexOf(SEPARATOR, i + 1)) {
    const prefix = parseJson(key.subarray(0, i));
    const stateKey = parseJson(key.subarray(i + 1));
    if (prefix.ok && stateKey.ok) return { key: prefix.value, stateKey: stateKey.value };
  }
  const whole = parseJson(key);
  if (whole.ok) return { key: null, stateKey: whole.value };
  for (let i = key.indexOf(SEPARATOR); i >= 0; i = key.indexOf(SEPARATOR, i + 1)) {
    const prefix = plainText(key.subarray(0, i));
    const stateKey = parseJson(key.subarray(i + 1));
    if (prefix !== undefined && stateKey.ok) return { key: prefix, stateKey: stateKey.value };
  }
  return { key: null, stateKey: decoder.decode(key) };
}

/**
 * A window store's key `prefix|BE64(start)|BE64(end)` as `{key, stateKey: {start, end}}`;
 * other keys of the store (count-window metadata) as plain stored keys.
 */
export function splitWindowKey(key: Uint8Array): { key: unknown; stateKey: unknown } {
  let window: ReturnType<typeof parseWindowKey>;
  try {
    window = parseWindowKey(key);
  } catch {
    return splitStoredKey(key);
  }
  const prefix = parseJson(window.prefix);
  if (prefix.ok || window.prefix.length === 0) {
    return { key: prefix.ok ? prefix.value : null, stateKey: { start: window.start, end: window.end } };
  }
  // Not a JSON message key: a count-window metadata key `prefix|"…"` that happens to have
  // a window key's shape, or a window of a plain-text message key.
  const stored = splitStoredKey(key);
  if (stored.key !== null) return stored;
  const text = plainText(window.prefix);
  return text === undefined ? stored : { key: text, stateKey: { start: window.start, end: window.end } };
}

