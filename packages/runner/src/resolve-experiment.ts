import { resolve } from 'node:path';
import { stableJson } from '@midspec/core';
import {
  type LoadedRunConfig,
  loadRunConfig,
  type RunConfigInput,
  validateExperiment,
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
  const baseDir = resolve(source.baseDir ?? '.');
  const { config, training } = validateExperiment(source.experiment, { baseDir });
  return { config, training, file: baseDir, baseDir, text: stableJson(source.experiment) };
}
