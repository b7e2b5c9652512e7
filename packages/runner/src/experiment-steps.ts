import type { RunConfig } from './run-config.js';

/** One step of an experiment: what `runExperiment` runs and `planExperiment` projects, in order. */
export interface ExperimentStep {
  /**
   * Stable id: `specs`, `world`, `corpus:msm-<spec>`, `demonstrations`, `base`, `probe:readability`,
   * `arms`, `eval:<n>`, `probe:dialogue`, `report`.
   */
  id: string;
  kind:
    | 'specs'
    | 'world'
    | 'corpus'
    | 'demonstrations'
    | 'base'
    | 'probe'
    | 'arms'
    | 'eval'
    | 'report';
  label: string;
}

/**
 * The experiment's steps, defined once: the run numbers its progress from this list, the plan
 * (`--dry-run`) projects each of them, and neither can show a step the other does not have.
 */
export function experimentSteps(config: RunConfig): ExperimentStep[] {
  const steps: ExperimentStep[] = [
    { id: 'specs', kind: 'specs', label: `specs: ${config.specs.map((s) => s.name).join(', ')}` },
  ];
  if (config.world)
    steps.push({
      id: 'world',
      kind: 'world',
      label: `world: ${config.world.trainingDomain} + ${config.world.heldOutDomains.length} held-out domains`,
    });
  for (const spec of config.specs)
    steps.push({
      id: `corpus:msm-${spec.name}`,
      kind: 'corpus',
      label: `corpus msm-${spec.name} (${config.corpus.provider})`,
    });
  const demonstrations = config.demonstrations;
  if (demonstrations?.source === 'spec')
    steps.push({
      id: 'demonstrations',
      kind: 'demonstrations',
      label: `demonstrations from spec ${demonstrations.spec} (${demonstrations.provider})`,
    });
  if (config.base.pretrain && config.world)
    steps.push({
      id: 'base',
      kind: 'base',
      label: `base: pretrain ${config.base.model} on the neutral corpus`,
    });
  if (config.world)
    steps.push({
      id: 'probe:readability',
      kind: 'probe',
      label: 'probe: does the base model read price and origin of held-out pairs?',
    });
  steps.push({
    id: 'arms',
    kind: 'arms',
    label: `arms: ${config.arms.length} × ${config.seeds.length} seeds`,
  });
  for (const [index, entry] of config.evals.entries())
    steps.push({
      id: `eval:${index}`,
      kind: 'eval',
      label: `eval ${'suite' in entry ? 'world' : entry.file}`,
    });
  if (config.world)
    steps.push({
      id: 'probe:dialogue',
      kind: 'probe',
      label: "probe dialogue: every model in the MSM documents' format",
    });
  steps.push({ id: 'report', kind: 'report', label: 'report' });
  return steps;
}
