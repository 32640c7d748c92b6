/**
 * Defaults of `weir bench` where neither a flag nor the config's `bench` section says
 * otherwise. Chosen so a bare `weir bench -c FILE` finishes in well under a minute on a
 * laptop while still running long enough (seconds per run) to measure a steady rate.
 */
import { availableParallelism } from 'node:os';

export const BENCH_DEFAULTS = {
  records: 100_000,
  keys: 1_000,
  distribution: 'uniform',
  /** Classic Zipf (s = 1): key 0 is drawn about twice as often as key 1. */
  zipfExponent: 1,
  /** Value of each generated record unless `bench.input.value` gives a template. */
  value: { n: '{{index}}', amount: '{{random}}' },
  /** Event time advances 1 ms per record. */
  eventsPerSecond: 1_000,
  disorderMs: 0,
  /** 2023-11-14T22:13:20Z: a fixed start so generated input is identical on every run. */
  startTimestamp: 1_700_000_000_000,
  seed: 42,
  /** Records per append while producing the input. */
  produceBatch: 5_000,
} as const;

/** 1, 2, 4, … up to the cores this process may use, and that core count itself. */
export function defaultWorkerCounts(cores: number = availableParallelism()): number[] {
  const counts: number[] = [];
  for (let n = 1; n < cores; n *= 2) counts.push(n);
  counts.push(cores);
  return counts;
}
