/**
 * weir's public API: define pipelines, load configs, run jobs from programs.
 */
export { definePipeline } from './shared/pipeline/pipeline-definition.js';
export type {
  PipelineDefinition,
  InputRecord,
  OutputRecord,
  ProcessingContext,
  KeyValueState,
  StoreDeclaration,
  JsonValue,
} from './shared/pipeline/pipeline-definition.js';
export { loadConfig, type WeirConfig } from './config/index.js';
export { App, type RunOptions, type RunSummary } from './runtime/app.js';
export { runJob, formatSummary } from './runtime/job-runner.js';
export type { RecoveryProgress } from './runtime/recovery-runner.js';
export { WeirError } from './shared/errors/weir-error.js';
