import { chunksStep, corpusStep, demonstrationsStep, specsStep, worldStep } from './data-steps.js';
import {
  armsStep,
  baseStep,
  dialogueProbeStep,
  evalStep,
  readabilityProbeStep,
  reportStep,
} from './model-steps.js';
import type { PipelineState, StepContext } from './pipeline-state.js';
import type { RunConfig } from './run-config.js';

export type ExperimentStepKind =
  | 'specs'
  | 'world'
  | 'corpus'
  | 'chunks'
  | 'demonstrations'
  | 'base'
  | 'probe'
  | 'arms'
  | 'eval'
  | 'report';

/**
 * Where a step keeps its output, and what that output depends on: the step's cache key is the hash
 * of `inputs`, its folder `<folder>/<name>-<first 12 hex digits of the key>`.
 */
export interface StepCache {
  folder: string;
  name: string;
  inputs: unknown;
}

/** One step of an experiment, as data: what `runExperiment` runs and `planExperiment` projects. */
export interface ExperimentStep {
  /**
   * Stable id: `specs`, `world`, `corpus:msm-<spec>`, `chunks:msm-<spec>`, `demonstrations`, `base`,
   * `probe:readability`, `arms`, `eval:<n>`, `probe:dialogue`, `report`.
   */
  id: string;
  kind: ExperimentStepKind;
  label: string;
  /**
   * The step's inputs, from what earlier steps produced. Absent for steps resumable by other means:
   * reading the specs redoes nothing, and training runs are found again on the worker by their
   * idempotency keys.
   */
  cache?: (state: PipelineState) => StepCache;
  /**
   * Does the step's work (in `at.dir`, under `at.key`, when it has a cache), records what it made
   * in the state, and says what it did: the summary shown when it finishes, and whether a
   * finished result with the same key was found and nothing was redone.
   */
  run: (
    state: PipelineState,
    context: StepContext,
    at: { dir: string; key: string } | undefined,
  ) => Promise<{ summary: string; cached: boolean }>;
}

/**
 * The experiment's steps, defined once: the run executes this list in order (numbering its progress
 * from it and deriving every cache key from its `cache` entries), the plan (`--dry-run`) projects
 * each of its steps, and neither can show a step the other does not have.
 */
export function experimentSteps(config: RunConfig): ExperimentStep[] {
  const steps: ExperimentStep[] = [specsStep(config)];
  if (config.world) steps.push(worldStep(config.world, config));
  for (const spec of config.specs) {
    steps.push(corpusStep(spec.name, config));
    if (config.corpus.chunkCharacters)
      steps.push(chunksStep(spec.name, config.corpus.chunkCharacters));
  }
  if (config.demonstrations?.source === 'spec')
    steps.push(demonstrationsStep(config.demonstrations));
  if (config.base.pretrain && config.world) steps.push(baseStep(config));
  if (config.world) steps.push(readabilityProbeStep());
  steps.push(armsStep(config));
  for (const [index, entry] of config.evals.entries()) steps.push(evalStep(index, entry));
  if (config.world) steps.push(dialogueProbeStep());
  steps.push(reportStep());
  return steps;
}
