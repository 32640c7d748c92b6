/**
 * Loads a pipeline module (coordinator and workers both do) and checks it is a
 * pipeline definition, so a wrong path or export fails with a clear error.
 * TypeScript pipelines run directly (see ../modules/default-export-loader.ts).
 */
import { definePipeline, type PipelineDefinition } from './pipeline-definition.js';
import { PipelineLoadError } from '../errors/runtime-errors.js';
import { loadDefaultExport } from '../modules/default-export-loader.js';

type PipelineLike = Parameters<typeof definePipeline>[0];

/** A definition, or a plain object with a process function or declared windows / timestamped stores. */
function isPipelineLike(value: unknown): value is PipelineLike {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate['process'] === 'function' || typeof candidate['windows'] === 'object' || typeof candidate['timestampedStores'] === 'object';
}

export async function loadPipeline(path: string): Promise<PipelineDefinition> {
  const loaded = await loadDefaultExport(
    path,
    isPipelineLike,
    'its default export must be definePipeline({ process?, stores?, windows?, timestampedStores? })',
    (reason, cause) => new PipelineLoadError(path, reason, { cause }),
  );
  // A plain object (not built with definePipeline) gets the same validation and defaults;
  // for a definition this is idempotent.
  try {
    return definePipeline(loaded);
  } catch (error) {
    throw new PipelineLoadError(path, error instanceof Error ? error.message : String(error), { cause: error });
  }
}
