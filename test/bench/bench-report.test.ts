import t from 'tap';
import { withRatios, type BenchReport, type MeasuredRun } from '../../bench/engine/bench-report.js';
import { benchChartSpec, renderBenchChart } from '../../bench/engine/bench-chart.js';
import { formatBenchTable } from '../../bench/engine/bench-table.js';

function measured(workers: number, recordsPerSecond: number, recoveryPerSecond: number | null): MeasuredRun {
  return {
    workers,
    records: 1_000,
    seconds: 1_000 / recordsPerSecond,
    recordsPerSecond,
    cpu: { coordinatorSeconds: 0.5, workers: Array.from({ length: workers }, (_, i) => ({ workerId: i, seconds: 0.25, records: 1_000 / workers })), processSeconds: 1.2 },
    peakRssBytes: 200 * 1024 * 1024,
    stateBytes: 64 * 1024,
    changelog: { records: 100, bytes: 2_048 },
    outputRecords: 1_000,
    checkpoints: 1,
    recovery: {
      records: 100,
      seconds: recoveryPerSecond === null ? null : 100 / recoveryPerSecond,
      recordsPerSecond: recoveryPerSecond,
      secondsUntilRecovered: 1,
      peakRssBytes: 150 * 1024 * 1024,
      stateBytes: 64 * 1024,
    },
  };
}

function report(runs: readonly MeasuredRun[]): BenchReport {
  const rated = withRatios(runs);
  return {
    bench: 'weir',
    config: '/jobs/weir.yaml',
    appId: 'orders',
    backend: 'local',
    partitions: 8,
    processingGuarantee: 'at-least-once',
    input: { source: 'file', path: '/jobs/in.jsonl', records: 1_000 },
    baselineWorkers: rated.baselineWorkers,
    runs: rated.runs,
    machine: { cores: 4, node: 'v20', platform: 'linux-x64' },
    startedAt: '2026-01-01T00:00:00.000Z',
    warnings: [],
  };
}

t.test('ratios compare with the 1-worker run wherever it is, else with the first run', async (t) => {
  const withOne = withRatios([measured(2, 150, 400), measured(1, 100, 200), measured(4, 250, null)]);
  t.equal(withOne.baselineWorkers, 1);
  t.same(withOne.runs.map((r) => r.ratio), [1.5, 1, 2.5]);
  t.same(withOne.runs.map((r) => r.recovery.ratio), [2, 1, null], 'no recovery rate, no ratio');

  const withoutOne = withRatios([measured(2, 200, 100), measured(4, 300, 150)]);
  t.equal(withoutOne.baselineWorkers, 2);
  t.same(withoutOne.runs.map((r) => r.ratio), [1, 1.5]);
  t.same(withoutOne.runs.map((r) => r.recovery.ratio), [1, 1.5]);
});

t.test('the table has a row per run with rates, ratios, cpu per thread, memory, state and changelog', async (t) => {
  const text = formatBenchTable(report([measured(1, 1_000, 5_000), measured(2, 1_800, 6_000)]));
  const lines = text.split('\n');
  t.match(lines[0], 'weir bench orders: 1,000 records (from /jobs/in.jsonl), 8 partitions, local log, at-least-once');
  t.match(lines[2], /^workers\s+records\/s\s+vs base\s+recovery rec\/s\s+vs base\s+coord cpu s\s+worker cpu s\s+peak RSS\s+state\s+changelog$/);
  t.match(lines[3], /^1\s+1,000\s+1\.00x\s+5,000\s+1\.00x\s+0\.50\s+0\.25\s+200\.0 MiB\s+64\.0 KiB\s+100 rec, 2\.0 KiB$/);
  t.match(lines[4], /^2\s+1,800\s+1\.80x\s+6,000\s+1\.20x\s+0\.50\s+0\.25 \/ 0\.25\s+200\.0 MiB/);
  t.equal(lines[3]!.indexOf('1.00x'), lines[4]!.indexOf('1.80x'), 'columns are aligned');
});

t.test('the chart is an SVG drawn by Vega-Lite with a processing and a recovery line', async (t) => {
  const r = report([measured(1, 1_000, 5_000), measured(2, 1_800, 6_000)]);
  const spec = benchChartSpec(r);
  t.same(
    (spec as { data: { values: unknown[] } }).data.values,
    [
      { workers: 1, series: 'processing (input records/s)', recordsPerSecond: 1_000 },
      { workers: 1, series: 'recovery (changelog records/s)', recordsPerSecond: 5_000 },
      { workers: 2, series: 'processing (input records/s)', recordsPerSecond: 1_800 },
      { workers: 2, series: 'recovery (changelog records/s)', recordsPerSecond: 6_000 },
    ],
  );
  const svg = await renderBenchChart(r);
  t.match(svg, /^<svg[^>]+xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  t.match(svg, 'processing (input records/s)');
  t.match(svg, 'recovery (changelog records/s)');
  t.match(svg, 'worker threads');
  t.match(svg, '1,800', 'points are labelled with their rate');
  const lines = svg.match(/<path aria-label="[^"]*series: [^"]*" role="graphics-symbol" aria-roledescription="line mark"/g) ?? [];
  t.equal(lines.length, 2, 'two line marks');
  t.match(lines.join('\n'), /worker threads: 1; records per second: 1000; series: processing[\s\S]*series: recovery/);
});
