/**
 * Loads a pipeline module (coordinator and workers both do) and checks it is a
 * pipeline definition, so a wrong path or export fails with a clear error.
 * TypeScript pipelines run directly (see ../modules/default-export-loader.ts).
 */
import type { PipelineDefinition } from './pipeline-definition.js';
import { PipelineLoadError } from '../errors/runtime-errors.js';
import { loadDefaultExport } from '../modules/default-export-loader.js';

function isPipeline(value: unknown): value is PipelineDefinition {
  return typeof value === 'object' && value !== null && typeof (value as PipelineDefinition).process === 'function';
}

export async function loadPipeline(path: string): Promise<PipelineDefinition> {
  return loadDefaultExport(
    path,
    isPipeline,
    'its default export must be definePipeline({ process, stores? })',
    (reason, cause) => new PipelineLoadError(path, reason, { cause }),
  );
}
