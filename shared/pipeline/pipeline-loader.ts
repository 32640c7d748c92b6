/**
 * Loads a pipeline module (coordinator and workers both do) and checks it is a
 * pipeline definition, so a wrong path or export fails with a clear error.
 *
 * TypeScript pipelines (`.ts`, `.mts`, `.cts`) are loaded through tsx, so users run
 * their source directly without a build step; JavaScript modules load natively.
 */
import { pathToFileURL } from 'node:url';
import { access } from 'node:fs/promises';
import type { PipelineDefinition } from './pipeline-definition.js';
import { PipelineLoadError } from '../errors/runtime-errors.js';

const TYPESCRIPT = /\.[cm]?tsx?$/;

async function importModule(path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href;
  if (TYPESCRIPT.test(path)) {
    const { tsImport } = await import('tsx/esm/api');
    return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
  }
  return (await import(url)) as Record<string, unknown>;
}

function isPipeline(value: unknown): value is PipelineDefinition {
  return typeof value === 'object' && value !== null && typeof (value as PipelineDefinition).process === 'function';
}

export async function loadPipeline(path: string): Promise<PipelineDefinition> {
  try {
    await access(path);
  } catch {
    throw new PipelineLoadError(path, 'the file does not exist');
  }
  let module: Record<string, unknown>;
  try {
    module = await importModule(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new PipelineLoadError(path, reason, { cause: error });
  }
  // A CommonJS module compiled by tsx arrives as { default: { default: definition } }.
  const candidate = module.default;
  const definition = isPipeline(candidate) ? candidate : (candidate as Record<string, unknown> | undefined)?.default;
  if (!isPipeline(definition)) {
    throw new PipelineLoadError(path, 'its default export must be definePipeline({ process, stores? })');
  }
  return definition;
}
