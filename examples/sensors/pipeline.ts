/**
 * Sensor averages: for every sensor (the message key), the mean, minimum and maximum
 * temperature and the number of readings over the last 10 seconds, every 2 seconds
 * (hopping windows), each window emitted once when it closes (`final`) to
 * `sensor-averages`. Readings up to 3 s out of order still count (grace); later ones
 * are reported and dropped.
 *
 * Input records (readings.jsonl, `weir produce` format):
 *   {"key": "greenhouse-1", "value": {"celsius": 23.4, "humidity": 51}, "timestamp": 1767268800123}
 * Output records: key = the sensor, value =
 *   {"start": 1767268800000, "end": 1767268810000, "avgCelsius": 23.9, "minCelsius": 22.1, "maxCelsius": 25.8, "readings": 10}
 */
// Inside the repo the pipeline imports the light module directly (users write 'weir/pipeline').
import { count, definePipeline, hoppingWindow, max, mean, min } from '../../shared/pipeline/pipeline-definition.js';

interface Reading {
  readonly celsius: number;
  readonly humidity: number;
}

export default definePipeline({
  windows: {
    temperature: hoppingWindow<Reading>({
      durationMs: 10_000,
      stepMs: 2_000,
      graceMs: 3_000,
      aggregate: {
        avgCelsius: mean((r) => r.celsius),
        minCelsius: min((r) => r.celsius),
        maxCelsius: max((r) => r.celsius),
        readings: count(),
      },
      emit: 'final',
      to: 'sensor-averages',
      onLate: (late) => {
        process.stderr.write(`sensors: reading of ${String(late.key)} at ${late.timestamp} is ${late.lateByMs} ms too late for [${late.start}, ${late.end})\n`);
      },
    }),
  },
});
