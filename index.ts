/**
 * weir's public API: define pipelines (stores, windows, timestamped stores), load
 * configs, run jobs from programs. `weir/pipeline` holds the pipeline API alone, for
 * pipeline modules that should load fast in every worker thread.
 */
export * from './shared/pipeline/pipeline-definition.js';
export { loadConfig, type WeirConfig } from './config/index.js';
export { App, type RunOptions, type RunSummary } from './runtime/app.js';
export { runJob, formatSummary } from './runtime/job-runner.js';
export type { RecoveryProgress } from './runtime/recovery-runner.js';
export { WeirError } from './shared/errors/weir-error.js';
