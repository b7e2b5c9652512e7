import type { RunSpec } from '@midspec/proto';
import type { DatasetFormatName } from './curriculum.js';
import { runIdempotencyKey } from './idempotency-key.js';
import type { Experiment } from './load-experiment.js';
import { toRunSpec } from './to-run-spec.js';
import { type Problem, TrainerError } from './trainer-error.js';
import { type JsonlValidation, validateJsonlFile } from './validate-jsonl.js';

/** A dataset of the plan: its content hash is its id on any worker. */
export interface PlannedDataset {
  name: string;
  /** Absolute path of the local file; undefined for a dataset already on the worker. */
  path: string | undefined;
  id: string;
  format: DatasetFormatName | undefined;
  sizeBytes: number | undefined;
  validation: JsonlValidation | undefined;
}

/** One run of the expansion arms × seeds. */
export interface PlannedRun {
  /** Stable: `<experiment>/<arm>/seed-<seed>`. */
  name: string;
  arm: string;
  seed: number;
  /** What the worker receives. */
  spec: RunSpec;
  /** Derived from `spec`: re-submitting never creates a duplicate. */
  idempotencyKey: string;
  /** False for an arm without stages (the untrained base model): nothing to submit. */
  trains: boolean;
}

export interface TrainingPlan {
  experiment: Experiment;
  datasets: PlannedDataset[];
  runs: PlannedRun[];
}

export function runName(experiment: string, arm: string, seed: number): string {
  return `${experiment}/${arm}/seed-${seed}`;
}

/**
 * Expands an experiment into its runs without contacting a worker: validates and hashes every local
 * dataset (every bad line of every file reported together), checks each file's format against the
 * stages that use it, and derives each run's spec and idempotency key.
 */
export async function planTrainingExperiment(
  experiment: Experiment,
  options: { signal?: AbortSignal; onDataset?: (dataset: PlannedDataset) => void } = {},
): Promise<TrainingPlan> {
  const problems: Problem[] = [];
  const datasets: PlannedDataset[] = [];
  for (const ref of Object.values(experiment.datasets)) {
    if (!ref.path) {
      datasets.push({
        name: ref.name,
        path: undefined,
        id: ref.id ?? '',
        format: ref.format,
        sizeBytes: undefined,
        validation: undefined,
      });
      continue;
    }
    let validation: JsonlValidation;
    try {
      validation = await validateJsonlFile(ref.path, {
        ...(ref.format && { format: ref.format }),
        signal: options.signal,
      });
    } catch (error) {
      problems.push({
        path: `datasets.${ref.name}`,
        file: ref.path,
        message: `cannot read: ${(error as Error).message}`,
      });
      continue;
    }
    if (validation.format === undefined)
      problems.push({
        path: `datasets.${ref.name}`,
        file: ref.path,
        message:
          'neither a text dataset ({"text": ...} lines) nor a chat dataset ({"messages": [...]} lines)',
      });
    else problems.push(...validation.problems);
    const dataset: PlannedDataset = {
      name: ref.name,
      path: ref.path,
      id: validation.sha256,
      format: validation.format,
      sizeBytes: validation.sizeBytes,
      validation,
    };
    datasets.push(dataset);
    options.onDataset?.(dataset);
  }
  const byName = new Map(datasets.map((dataset) => [dataset.name, dataset]));
  for (const [armIndex, arm] of experiment.arms.entries()) {
    for (const [stageIndex, stage] of arm.curriculum.stages.entries()) {
      for (const [sourceIndex, source] of stage.data.entries()) {
        const format = byName.get(source.dataset)?.format;
        const wanted = stage.kind === 'midtrain' ? 'text' : 'chat';
        if (format !== undefined && format !== wanted)
          problems.push({
            path: `arms[${armIndex}].stages[${stageIndex}].data[${sourceIndex}]`,
            message: `a ${stage.kind} stage trains on ${wanted} data, but ${source.dataset} is a ${format} dataset`,
          });
      }
    }
  }
  if (problems.length > 0) {
    throw new TrainerError({
      code: 'trainer/invalid-dataset',
      summary: `the data of ${experiment.name} has problems`,
      problems,
    });
  }
  const datasetIds = Object.fromEntries(datasets.map((dataset) => [dataset.name, dataset.id]));
  const runs = experiment.arms.flatMap((arm) =>
    experiment.seeds.map((seed): PlannedRun => {
      const name =
        experiment.arms.length === 1 && arm.name === 'main'
          ? `${experiment.name}/seed-${seed}`
          : runName(experiment.name, arm.name, seed);
      const spec = toRunSpec(arm.curriculum, {
        name,
        seed,
        datasetIds,
        labels: { experiment: experiment.name, arm: arm.name, seed: String(seed) },
      });
      return {
        name,
        arm: arm.name,
        seed,
        spec,
        idempotencyKey: runIdempotencyKey(spec),
        trains: spec.stages.length > 0,
      };
    }),
  );
  return { experiment, datasets, runs };
}

/** The plan as plain JSON (what `midspec experiment plan --json` prints). */
export function planToJson(plan: TrainingPlan): unknown {
  return {
    experiment: plan.experiment.name,
    seeds: plan.experiment.seeds,
    datasets: plan.datasets.map((dataset) => ({
      name: dataset.name,
      path: dataset.path,
      id: dataset.id,
      format: dataset.format,
      sizeBytes: dataset.sizeBytes,
      records: dataset.validation?.statistics.records,
      estimatedTokens: dataset.validation?.statistics.estimatedTokens,
    })),
    runs: plan.runs.map((run) => ({
      name: run.name,
      arm: run.arm,
      seed: run.seed,
      trains: run.trains,
      idempotencyKey: run.idempotencyKey,
      baseModel: run.spec.baseModel,
      stages: plan.experiment.arms.find((arm) => arm.name === run.arm)?.curriculum.stages ?? [],
    })),
  };
}
