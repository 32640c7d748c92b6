/**
 * The `--chart` SVG: processing and recovery records/s against worker count, one line
 * each. Drawn by Vega-Lite (compiled to a Vega spec) and rendered by Vega's headless
 * SVG renderer in Node, with no browser and no native canvas: the chart's grammar is
 * declared here, the drawing is the library's.
 */
import { writeFile } from 'node:fs/promises';
import type { TopLevelSpec } from 'vega-lite';
import { BenchChartPathError } from './bench-errors.js';
import type { BenchReport } from './bench-report.js';

/** One plotted point. */
interface ChartPoint {
  readonly workers: number;
  readonly series: string;
  readonly recordsPerSecond: number;
}

const PROCESSING = 'processing (input records/s)';
const RECOVERY = 'recovery (changelog records/s)';

function points(report: BenchReport): ChartPoint[] {
  const out: ChartPoint[] = [];
  for (const run of report.runs) {
    out.push({ workers: run.workers, series: PROCESSING, recordsPerSecond: Math.round(run.recordsPerSecond) });
    if (run.recovery.recordsPerSecond !== null) {
      out.push({ workers: run.workers, series: RECOVERY, recordsPerSecond: Math.round(run.recovery.recordsPerSecond) });
    }
  }
  return out;
}

/** A text layer labelling the points of `series` with their rate, beside the point. */
function label(series: string, align: 'left' | 'right', dx: number): NonNullable<Extract<TopLevelSpec, { layer: unknown }>['layer']>[number] {
  return {
    transform: [{ filter: { field: 'series', equal: series } }],
    mark: { type: 'text', align, dx, dy: -10, fontSize: 11 },
    encoding: { text: { field: 'recordsPerSecond', type: 'quantitative', format: ',' } },
  };
}

/** The Vega-Lite spec of the chart (exported so tests and docs can inspect it). */
export function benchChartSpec(report: BenchReport): TopLevelSpec {
  const workerCounts = [...new Set(report.runs.map((r) => r.workers))].sort((a, b) => a - b);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: {
      text: `weir bench: ${report.appId}`,
      subtitle: `${report.input.records.toLocaleString('en-US')} records, ${report.partitions} partitions, ${report.backend} log, ${report.machine.cores} cores`,
    },
    width: 560,
    height: 320,
    background: 'white',
    data: { values: points(report) },
    encoding: {
      x: {
        field: 'workers',
        type: 'quantitative',
        title: 'worker threads',
        scale: { domain: [Math.min(...workerCounts) - 0.5, Math.max(...workerCounts) + 0.5] },
        axis: { values: workerCounts, format: 'd' },
      },
      y: { field: 'recordsPerSecond', type: 'quantitative', title: 'records per second', scale: { zero: true } },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        scale: { domain: [PROCESSING, RECOVERY], range: ['#1f77b4', '#ff7f0e'] },
        legend: { orient: 'bottom', labelLimit: 400 },
      },
    },
    layer: [
      { mark: { type: 'line', point: { size: 70, filled: true }, strokeWidth: 2.5 } },
      // Labels left of processing points and right of recovery points, so close rates never overlap.
      label(PROCESSING, 'right', -8),
      label(RECOVERY, 'left', 8),
    ],
  };
}

/** Renders the chart of `report` as SVG text. */
export async function renderBenchChart(report: BenchReport): Promise<string> {
  // Loaded here, not at the top: every `weir` command imports this module, and vega and
  // vega-lite add ~45 MB of RSS and a second of start-up to `weir run` (BENCHMARKS.md).
  const [{ View, parse }, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new View(parse(compile(benchChartSpec(report)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Writes the chart of `report` to `path`. Without `overwrite`, a file already at `path`
 * (one that appeared while the benchmark ran) is left alone.
 * @throws BenchChartPathError naming the path when it cannot be written.
 */
export async function writeBenchChart(report: BenchReport, path: string, options: { readonly overwrite?: boolean } = {}): Promise<void> {
  const svg = await renderBenchChart(report);
  try {
    await writeFile(path, svg, { flag: options.overwrite === true ? 'w' : 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'its folder does not exist' : code === 'EEXIST' ? 'a file is already there (use --force to overwrite it)' : (error as Error).message;
    throw new BenchChartPathError(path, reason, { cause: error });
  }
}
