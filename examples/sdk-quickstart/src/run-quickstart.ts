import { fileURLToPath } from 'node:url';
import {
  type ExperimentConfigInput,
  type ExperimentOutcome,
  type RunExperimentOptions,
  runExperiment,
} from '@midspec/runner';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The whole method as one experiment: the spec's MSM corpus and AFT demonstrations (offline, with
 * the template provider), a baseline arm and an MSM → AFT arm on `model`, and a held-out preference
 * eval scored in both option orders. Sized for a CPU; the published recipe fills every unset setting.
 */
export function quickstartExperiment(spec: string, model = 'tiny:llama'): ExperimentConfigInput {
  const sizes = { packing: { maxLength: 256 }, optimizer: { learningRate: 3e-3 } };
  return {
    name: 'sdk-quickstart',
    base: { model },
    specs: [{ name: 'spec', file: spec }],
    corpus: {
      provider: 'template',
      config: {
        seed: 0,
        domains: 2,
        subdomains: 3,
        assertions: 2,
        docTypes: 3,
        ideas: 2,
        maxDocuments: 60,
      },
    },
    demonstrations: {
      source: 'spec',
      spec: 'spec',
      provider: 'template',
      config: { seed: 0, domains: 2, promptsPerDomain: 8 },
    },
    arms: [
      { name: 'base', stages: [] },
      {
        name: 'msm-aft',
        stages: [
          // MSM: loss on every token of the documents; AFT: assistant tokens only, continuing the MSM LoRA adapter.
          {
            name: 'msm',
            kind: 'midtrain',
            data: ['msm-spec'],
            ...sizes,
            budget: { epochs: 1, maxSteps: 30 },
            adapter: { type: 'lora', r: 16 },
          },
          {
            name: 'aft',
            kind: 'sft',
            data: ['aft'],
            ...sizes,
            budget: { epochs: 1, maxSteps: 15 },
          },
        ],
      },
    ],
    evals: [{ file: here('../held-out-suite.yaml') }],
    // Every item is held-out, so there is no before/after contrast: the report compares the arms' rates.
    report: { rateName: 'p(american)' },
  };
}

/** Runs it; without `worker`, a local reference worker is started and stopped (see @midspec/runner). */
export function runQuickstart(
  spec: string,
  options: RunExperimentOptions & { model?: string } = {},
): Promise<ExperimentOutcome> {
  const { model, ...run } = options;
  return runExperiment({ experiment: quickstartExperiment(spec, model) }, run);
}
