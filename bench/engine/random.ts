/**
 * Deterministic randomness for generated bench input: the same seed gives the same
 * records, so every run of a benchmark (and every worker count) processes the same data.
 */

/** A seeded PRNG returning floats in [0, 1) (mulberry32: tiny, fast, good enough for load shapes). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x100000000;
  };
}

/** Draws a key index in [0, keys) from a uniform random float in [0, 1). */
export type KeySampler = (uniform: number) => number;

/** Every key equally likely. */
export function uniformKeys(keys: number): KeySampler {
  return (u) => Math.min(keys - 1, Math.floor(u * keys));
}

/**
 * Zipf's law: key k has weight 1/(k+1)^exponent, so key 0 is the hottest. The
 * cumulative weights are computed once (O(keys) memory) and each draw is a binary search.
 */
export function zipfKeys(keys: number, exponent: number): KeySampler {
  const cumulative = new Float64Array(keys);
  let total = 0;
  for (let k = 0; k < keys; k++) {
    total += 1 / Math.pow(k + 1, exponent);
    cumulative[k] = total;
  }
  return (u) => {
    const target = u * total;
    let low = 0;
    let high = keys - 1;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (cumulative[mid]! <= target) low = mid + 1;
      else high = mid;
    }
    return low;
  };
}
