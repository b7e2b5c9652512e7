import { resolve } from 'node:path';
import { stableJson } from '@midspec/core';
import {
  type LoadedRunConfig,
  loadRunConfig,
  parseRunConfig,
  type RunConfigInput,
} from './run-config.js';

/**
 * An experiment as a caller has it: a file path, the object an experiment file holds (its relative
 * paths resolved against `baseDir`, default the current folder), or an already loaded file.
 */
export type ExperimentSource =
  | string
  | LoadedRunConfig
  | { experiment: RunConfigInput; baseDir?: string };

/** The one place an experiment is read and validated; everything after trusts the result. */
export async function resolveExperiment(source: ExperimentSource): Promise<LoadedRunConfig> {
  if (typeof source === 'string') return loadRunConfig(source);
  if ('config' in source) return source;
  const config = parseRunConfig(source.experiment);
  const baseDir = resolve(source.baseDir ?? '.');
  return { config, file: baseDir, baseDir, text: stableJson(source.experiment) };
}
