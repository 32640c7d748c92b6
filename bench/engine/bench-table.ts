/**
 * The terminal table of a benchmark report: one row per worker count, the headline
 * rates first, then what they cost. Plain aligned text, so it reads the same in a
 * terminal, a CI log or a README.
 */
import type { BenchReport, BenchRun } from './bench-report.js';

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function bytes(n: number): string {
  if (n >= 1024 * 1024 * 1024) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 * 1024) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

function ratio(value: number | null): string {
  return value === null ? '-' : `${value.toFixed(2)}x`;
}

const COLUMNS: readonly { readonly title: string; readonly cell: (run: BenchRun) => string }[] = [
  { title: 'workers', cell: (r) => String(r.workers) },
  { title: 'records/s', cell: (r) => integer.format(r.recordsPerSecond) },
  { title: 'vs base', cell: (r) => ratio(r.ratio) },
  { title: 'recovery rec/s', cell: (r) => (r.recovery.recordsPerSecond === null ? '-' : integer.format(r.recovery.recordsPerSecond)) },
  { title: 'vs base', cell: (r) => ratio(r.recovery.ratio) },
  { title: 'coord cpu s', cell: (r) => r.cpu.coordinatorSeconds.toFixed(2) },
  { title: 'worker cpu s', cell: (r) => r.cpu.workers.map((w) => w.seconds.toFixed(2)).join(' / ') },
  { title: 'peak RSS', cell: (r) => bytes(r.peakRssBytes) },
  { title: 'state', cell: (r) => bytes(r.stateBytes) },
  { title: 'changelog', cell: (r) => `${integer.format(r.changelog.records)} rec, ${bytes(r.changelog.bytes)}` },
];

/** Rows of `cells` with columns padded to a common width (first column left-aligned, the rest right). */
function align(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd());
}

/** The report as text: a heading line, the table, and a footnote on what the ratios compare. */
export function formatBenchTable(report: BenchReport): string {
  const input = report.input;
  const source =
    input.source === 'generated'
      ? `generated, ${integer.format(input.keys)} keys ${input.distribution}`
      : input.source === 'file'
        ? `from ${input.path}`
        : `from generator ${input.path}`;
  const heading = `weir bench ${report.appId}: ${integer.format(input.records)} records (${source}), ${report.partitions} partitions, ${report.backend} log, ${report.processingGuarantee}`;
  const rows = [COLUMNS.map((c) => c.title), ...report.runs.map((run) => COLUMNS.map((c) => c.cell(run)))];
  const footnote = `vs base: rate / the ${report.baselineWorkers}-worker run's. cpu: CPU time per thread. recovery: state dropped, then rebuilt from the changelog (replay time).`;
  return [heading, '', ...align(rows), '', footnote].join('\n');
}
