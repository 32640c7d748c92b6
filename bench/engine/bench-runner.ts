/**
 * The benchmark engine behind `weir bench`: for each worker count, in a fresh workspace
 * (run-workspace.ts), produce the input, run the job until idle in a child process,
 * measure its state on disk, drop the state, and run again to measure recovery from
 * the changelog. Everything goes through the LogBackend interface, so the same code
 * benchmarks jobs on the local log and on Kafka.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type WeirConfig } from '../../config/index.js';
import { openLogBackend } from '../../runtime/open-log-backend.js';
import { clearState } from '../../runtime/state-inspection.js';
import { openBenchInput, type BenchInput } from './bench-input.js';
import type { BenchOptions } from './bench-options.js';
import { withRatios, type BenchReport, type MeasuredRun } from './bench-report.js';
import type { BenchPhase } from './child-protocol.js';
import { runPhaseInChild } from './child-run.js';
import { BenchInterruptedError } from './bench-errors.js';
import { directoryBytes } from '../../shared/directory-bytes.js';
import { runWorkspace } from './run-workspace.js';
import { topicFormatsFor } from '../../runtime/cli/topic-format-options.js';

/** A step of the benchmark, for progress displays. */
export type BenchStep = 'producing' | BenchPhase;

/** Receives progress while the benchmark runs. */
export interface BenchProgressListener {
  /** A step starts; `total` is what `done` counts up to (records, or changelog records). */
  step(workers: number, step: BenchStep, total: number): void;
  /** Progress within the current step. */
  update(done: number): void;
  /** A worker count is measured. */
  runDone(run: MeasuredRun): void;
}

const NO_PROGRESS: BenchProgressListener = { step: () => undefined, update: () => undefined, runDone: () => undefined };

/** Creates the run's input topics and appends the input to the first one. */
async function produceInput(
  config: WeirConfig,
  input: BenchInput,
  partitions: number,
  progress: BenchProgressListener,
  signal: AbortSignal | undefined,
): Promise<void> {
  const backend = await openLogBackend(config);
  try {
    for (const topic of config.input.topics) {
      if ((await backend.describeTopic(topic)) === undefined) await backend.createTopic(topic, partitions);
    }
    const producer = await backend.producer();
    try {
      let done = 0;
      for await (const batch of input.batches(config.input.topics[0]!)) {
        if (signal?.aborted === true) throw new BenchInterruptedError();
        await producer.append(batch);
        done += batch.length;
        progress.update(done);
      }
    } finally {
      await producer.close();
    }
  } finally {
    await backend.close();
  }
}

async function measureRun(
  config: WeirConfig,
  benchDir: string,
  runId: string,
  workers: number,
  input: BenchInput,
  progress: BenchProgressListener,
  signal: AbortSignal | undefined,
): Promise<MeasuredRun> {
  const workspace = runWorkspace(config, benchDir, runId, workers);
  try {
    progress.step(workers, 'producing', input.records);
    await produceInput(workspace.config, input, config.partitions, progress, signal);

    progress.step(workers, 'processing', input.records);
    const processed = await runPhaseInChild(workspace.config, 'processing', (done) => progress.update(done), signal);
    const stateBytes = await directoryBytes(workspace.stateDir);
    await clearState(workspace.config);

    progress.step(workers, 'recovery', processed.summary.changelogRecords);
    const recovered = await runPhaseInChild(workspace.config, 'recovery', (done) => progress.update(done), signal);
    const recoveredStateBytes = await directoryBytes(workspace.stateDir);

    const { summary } = processed;
    const recoveryRecords = recovered.summary.recoveredRecords;
    const recoverySeconds = recovered.recoverySeconds;
    return {
      workers,
      records: summary.records,
      seconds: summary.seconds,
      recordsPerSecond: summary.recordsPerSecond,
      cpu: {
        coordinatorSeconds: processed.coordinatorBusySeconds,
        workers: summary.workers.map((w) => ({ workerId: w.workerId, seconds: w.cpuSeconds, records: w.records })),
        processSeconds: processed.processCpuSeconds,
      },
      peakRssBytes: processed.peakRssBytes,
      stateBytes,
      changelog: { records: summary.changelogRecords, bytes: summary.changelogBytes },
      outputRecords: summary.outputRecords,
      checkpoints: summary.checkpoints,
      recovery: {
        records: recoveryRecords,
        seconds: recoverySeconds,
        recordsPerSecond: recoverySeconds === null || recoverySeconds === 0 ? null : recoveryRecords / recoverySeconds,
        secondsUntilRecovered: recovered.secondsUntilRecovered,
        peakRssBytes: recovered.peakRssBytes,
        stateBytes: recoveredStateBytes,
      },
    };
  } finally {
    // Keep the disk small between runs: a run's log and state are not needed once measured.
    await rm(workspace.dir, { recursive: true, force: true });
  }
}

/** On Kafka the runs leave traces on the cluster that a local log in a temporary folder does not. */
function kafkaWarnings(config: WeirConfig, runPrefix: string): string[] {
  if (config.log.backend !== 'kafka') return [];
  const warnings = [
    `the runs created topics whose names contain "${runPrefix}" (inputs and changelogs) and consumer groups "${config.appId}-${runPrefix}-…" on the cluster; delete them with your Kafka tools when done`,
  ];
  if (config.output.topics.length > 0) {
    warnings.push(`the pipeline emits to topics by name, so the runs appended their outputs to ${config.output.topics.join(', ')} on the cluster`);
  }
  return warnings;
}

/**
 * Benchmarks the job of `options.configPath` at each worker count of `options.workers`.
 * The user's log, state and topics are never touched (see run-workspace.ts). Aborting
 * `signal` stops the current run and removes the temporary files.
 * @throws ConfigError and the bench errors of bench-errors.ts, before any run where possible.
 * @throws BenchInterruptedError when `signal` aborted the benchmark.
 */
export async function runBench(
  options: BenchOptions,
  progress: BenchProgressListener = NO_PROGRESS,
  signal?: AbortSignal,
): Promise<BenchReport> {
  const startedAt = new Date();
  const config = await loadConfig(options.configPath);
  // Input in the input topic's formats: an Avro job gets Avro records (its schema registered once).
  const inputTopic = config.input.topics[0]!;
  const formats = config.formats === undefined ? undefined : await topicFormatsFor(config, inputTopic, {}, 'write');
  let input: BenchInput;
  try {
    input = await openBenchInput(options.input, formats?.of(inputTopic));
  } catch (error) {
    formats?.close();
    throw error;
  }
  const benchDir = await mkdtemp(join(tmpdir(), 'weir-bench-'));
  const stamp = startedAt.getTime().toString(36);
  const runs: MeasuredRun[] = [];
  try {
    for (const [index, workers] of options.workers.entries()) {
      const run = await measureRun(config, benchDir, `bench-${stamp}-${index}-w${workers}`, workers, input, progress, signal);
      runs.push(run);
      progress.runDone(run);
    }
  } finally {
    formats?.close();
    await rm(benchDir, { recursive: true, force: true });
  }
  const rated = withRatios(runs);
  return {
    bench: 'weir',
    config: options.configPath,
    appId: config.appId,
    backend: config.log.backend,
    partitions: config.partitions,
    processingGuarantee: config.processingGuarantee,
    input: input.description,
    baselineWorkers: rated.baselineWorkers,
    runs: rated.runs,
    machine: { cores: availableParallelism(), node: process.version, platform: `${process.platform}-${process.arch}` },
    startedAt: startedAt.toISOString(),
    warnings: [...input.warnings, ...kafkaWarnings(config, `bench-${stamp}`)],
  };
}
