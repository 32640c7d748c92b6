/**
 * `weir bench -c FILE [--records N] [--keys K] [--workers 1,2,4] [--input FILE.jsonl |
 * --generator MODULE] [--distribution uniform|zipf] [--json] [--chart FILE.svg [--force]]`:
 * measures the configured job at several worker counts on fresh state (the user's own
 * log and state are never touched), with recovery, and prints a table (or one JSON
 * document with `--json`); `--chart` also writes an SVG chart, to a new `.svg` file only
 * unless `--force` (a mistyped `--chart weir.yaml` must not replace the job's config).
 * Engine: bench/engine/.
 */
import { access, constants, stat } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { MAX_WORKERS } from '../../../config/index.js';
import { configOption, integerAtLeast, type RegisterCommand } from '../cli-command.js';
import { readBenchSection, resolveBenchOptions, type KeyDistribution } from '../../../bench/engine/bench-options.js';
import { runBench } from '../../../bench/engine/bench-runner.js';
import { benchProgressDisplay } from '../../../bench/engine/bench-progress.js';
import { formatBenchTable } from '../../../bench/engine/bench-table.js';
import { writeBenchChart } from '../../../bench/engine/bench-chart.js';
import { BenchChartPathError } from '../../../bench/engine/bench-errors.js';

interface BenchCommandOptions {
  readonly config: string;
  readonly records?: number;
  readonly keys?: number;
  readonly workers?: number[];
  readonly input?: string;
  readonly generator?: string;
  readonly distribution?: KeyDistribution;
  readonly json?: boolean;
  readonly chart?: string;
  readonly force?: boolean;
}

/** Commander parser for `--workers`: distinct integers in 1 … MAX_WORKERS, comma-separated. */
export function parseWorkerList(raw: string): number[] {
  const items = raw.split(',').map((item) => item.trim());
  const counts: number[] = [];
  for (const item of items) {
    const value = Number(item);
    if (!/^\d+$/.test(item) || !Number.isSafeInteger(value) || value < 1 || value > MAX_WORKERS) {
      throw new InvalidArgumentError(`expected worker counts from 1 to ${MAX_WORKERS} separated by commas (e.g. 1,2,4); "${item}" is not one`);
    }
    if (counts.includes(value)) throw new InvalidArgumentError(`worker count ${value} is listed twice`);
    counts.push(value);
  }
  return counts;
}

/**
 * Fails before any run when the chart cannot or may not be written at `path`: its folder
 * is missing or read-only, it is a directory, or, without `force`, it does not end in
 * `.svg` or a file is already there.
 * @throws BenchChartPathError naming the path and the reason.
 */
export async function checkChartPath(path: string, force: boolean): Promise<void> {
  if (!force && extname(path).toLowerCase() !== '.svg') {
    throw new BenchChartPathError(path, 'it does not end in .svg; give a .svg path, or add --force to write the chart there anyway');
  }
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory() === true) throw new BenchChartPathError(path, 'it is a directory');
  if (existing !== undefined && !force) {
    throw new BenchChartPathError(path, 'a file is already there; choose another path, or add --force to overwrite it');
  }
  await access(dirname(path), constants.W_OK).catch((error: NodeJS.ErrnoException) => {
    const reason = error.code === 'ENOENT' ? 'its folder does not exist' : 'its folder is not writable';
    throw new BenchChartPathError(path, reason, { cause: error });
  });
}

export const registerBenchCommand: RegisterCommand = (program: Command) => {
  program
    .command('bench')
    .description('benchmark the configured job at several worker counts on fresh state: throughput, recovery, cpu, memory, state size')
    .addOption(configOption())
    .option('-n, --records <n>', 'records to process per run (default: config bench.records, else 100000; with --input: at most this many)', integerAtLeast(1))
    .option('-k, --keys <n>', 'distinct keys of generated input (default: config bench.input.keys, else 1000)', integerAtLeast(1))
    .option('-w, --workers <list>', 'worker counts to measure, e.g. 1,2,4 (default: config bench.workers, else 1, 2, 4… up to the cores)', parseWorkerList)
    .addOption(new Option('-i, --input <file>', 'JSON Lines input file ({"key", "value", "timestamp"?, "headers"?} per line) instead of generated input').conflicts('generator'))
    .option('-g, --generator <module>', 'module whose default export (index, { random, keys, records }) => record generates the input')
    .addOption(new Option('--distribution <kind>', 'key distribution of generated input').choices(['uniform', 'zipf']))
    .option('--json', 'print the report as one JSON document')
    .option('--chart <file>', 'write an SVG chart of records/s and recovery records/s against workers to a new .svg file')
    .option('--force', 'let --chart overwrite an existing file or write a path that does not end in .svg')
    .action(async (options: BenchCommandOptions) => {
      // Validate the config (and its bench section) and the chart path before anything runs.
      const section = await readBenchSection(options.config);
      const chart = options.chart === undefined ? undefined : resolve(options.chart);
      const force = options.force === true;
      if (chart !== undefined) await checkChartPath(chart, force);
      const benchOptions = resolveBenchOptions(options.config, section, {
        ...(options.records === undefined ? {} : { records: options.records }),
        ...(options.keys === undefined ? {} : { keys: options.keys }),
        ...(options.workers === undefined ? {} : { workers: options.workers }),
        ...(options.input === undefined ? {} : { input: options.input }),
        ...(options.generator === undefined ? {} : { generator: options.generator }),
        ...(options.distribution === undefined ? {} : { distribution: options.distribution }),
      });
      const progress = benchProgressDisplay(process.stderr);
      // Ctrl-C / SIGTERM: stop the current run, remove the temporary runs, report it.
      const controller = new AbortController();
      const abort = (): void => controller.abort();
      process.once('SIGINT', abort);
      process.once('SIGTERM', abort);
      let report;
      try {
        report = await runBench(benchOptions, progress, controller.signal);
      } finally {
        progress.stop();
        process.off('SIGINT', abort);
        process.off('SIGTERM', abort);
      }
      for (const warning of report.warnings) process.stderr.write(`weir: warning: ${warning}\n`);
      if (chart !== undefined) {
        await writeBenchChart(report, chart, { overwrite: force });
        report = { ...report, chart };
      }
      if (options.json === true) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        process.stdout.write(`${formatBenchTable(report)}\n`);
        if (chart !== undefined) process.stdout.write(`chart: ${chart}\n`);
      }
    });
};
