import {
  checkExperiment,
  type DatasetInput,
  type DatasetRef,
  type Experiment,
  type ExperimentInput,
  type Problem,
  TrainerError,
} from '@midspec/trainer';
import type { RunConfig } from './run-config.js';

/**
 * The training an experiment file asks for, checked by the trainer's rules when the file is read:
 * the arms × seeds, and the base model's pretraining on the world's neutral corpus. Datasets the
 * run generates (corpora, demonstrations, the neutral corpus) stand in under their names until the
 * steps that write them give their files (`withGeneratedData`).
 */
export interface ValidatedTraining {
  arms: Experiment;
  base: Experiment | undefined;
  /** The dataset names the run generates, with the format each has. */
  generated: Record<string, 'text' | 'chat'>;
}

/** The datasets a run writes, in the order they are uploaded: `msm-<spec>`, `aft`, `aft-reasoning`, `neutral`. */
function generatedDatasets(config: RunConfig): Record<string, 'text' | 'chat'> {
  const generated: Record<string, 'text' | 'chat'> = {};
  for (const spec of config.specs) generated[`msm-${spec.name}`] = 'text';
  if (config.demonstrations) generated.aft = 'chat';
  if (config.demonstrations?.source === 'spec' && config.demonstrations.withReasoning)
    generated['aft-reasoning'] = 'chat';
  if (config.world) generated.neutral = 'text';
  // A dataset the file names itself replaces a generated one of the same name.
  for (const name of Object.keys(config.datasets ?? {})) delete generated[name];
  return generated;
}

const standIn = (name: string, format: 'text' | 'chat'): DatasetInput => ({
  id: `generated:${name}`,
  format,
});

/** The trainer's checks over the arms (and the base pretraining); problems have the file's paths. */
export function checkTraining(
  config: RunConfig,
  baseDir: string,
): { training: ValidatedTraining | undefined; problems: Problem[] } {
  const generated = generatedDatasets(config);
  const datasets: Record<string, DatasetInput> = {};
  for (const [name, format] of Object.entries(generated)) datasets[name] = standIn(name, format);
  Object.assign(datasets, config.datasets ?? {});
  const problems: Problem[] = [];
  const check = (input: ExperimentInput, rename: (path: string) => string) => {
    try {
      return checkExperiment(input, { baseDir });
    } catch (error) {
      if (!TrainerError.isInstance(error)) throw error;
      problems.push(
        ...error.problems.map((problem) => ({ ...problem, path: rename(problem.path) })),
      );
      return undefined;
    }
  };
  // The experiment's own keys (name, seeds, datasets, stageDefaults, arms) sit where the trainer's
  // do, so the trainer's problem paths are the file's paths.
  const arms = check(
    {
      name: config.name,
      baseModel: config.base.model,
      seeds: config.seeds,
      datasets,
      ...(config.stageDefaults && { stageDefaults: config.stageDefaults }),
      arms: config.arms,
    },
    (path) => path,
  );
  let base: Experiment | undefined;
  if (config.base.pretrain && config.world) {
    base = check(
      {
        name: `${config.name}-base`,
        baseModel: config.base.model,
        seeds: [config.world.seed],
        datasets: { neutral: standIn('neutral', 'text') },
        arms: [
          {
            name: 'pretrain',
            stages: [
              {
                adapter: 'full',
                ...config.base.pretrain,
                name: 'pretrain',
                kind: 'midtrain',
                data: ['neutral'],
              },
            ],
          },
        ],
      },
      (path) => path.replace(/^arms\[0\]\.stages\[0\]/, 'base.pretrain'),
    );
  }
  return {
    training: arms && { arms, base, generated },
    problems,
  };
}

/**
 * The validated experiment with the generated datasets' files in place of their stand-ins, and the
 * base model the arms start from (the pretrained base's checkpoint, when there is one) for every
 * arm that does not name its own. Checks nothing again.
 */
export function withGeneratedData(
  experiment: Experiment,
  generated: Record<string, 'text' | 'chat'>,
  files: Record<string, string>,
  options: { baseModel?: string; ownBaseModel?: ReadonlySet<string> } = {},
): Experiment {
  const datasets: Record<string, DatasetRef> = {};
  for (const [name, ref] of Object.entries(experiment.datasets)) {
    const format = generated[name];
    const path = files[name];
    if (format && !path)
      throw new Error(`internal: the generated dataset ${name} has no file to train on`);
    datasets[name] = format && path ? { name, path, format } : ref;
  }
  return {
    ...experiment,
    datasets,
    arms: experiment.arms.map((arm) => ({
      ...arm,
      curriculum: {
        ...arm.curriculum,
        datasets,
        ...(options.baseModel !== undefined &&
          !options.ownBaseModel?.has(arm.name) && { baseModel: options.baseModel }),
      },
    })),
  };
}
