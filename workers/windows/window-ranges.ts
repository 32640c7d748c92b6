/**
 * Time window ranges of an event time (docs/semantics.md §7.2): windows `[start, start + duration)`
 * containing `timestamp`, starts aligned to multiples of `step`, none starting below 0,
 * ascending.
 */
export function windowRanges(timestamp: number, durationMs: number, stepMs: number = durationMs): [number, number][] {
  const step = stepMs > 0 ? stepMs : durationMs;
  const ranges: [number, number][] = [];
  for (let start = timestamp - (timestamp % step); start > timestamp - durationMs && start >= 0; start -= step) {
    ranges.push([start, start + durationMs]);
  }
  return ranges.reverse();
}
