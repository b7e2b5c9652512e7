import { isAbsolute, resolve } from 'node:path';
import type { AdapterInput, DatasetInput, StageInput } from './curriculum-schema.js';
import type { Problem } from './trainer-error.js';

export type StageKindName = 'midtrain' | 'sft';
export type DatasetFormatName = 'text' | 'chat';

/** A dataset a curriculum trains on: a local file to upload, or one already on the worker. */
export interface DatasetRef {
  name: string;
  /** Absolute path of a local JSONL file. */
  path?: string;
  /** The worker's dataset id (sha256), when already uploaded. */
  id?: string;
  /** Detected from the file when left out. */
  format?: DatasetFormatName;
}

export type AdapterSettings =
  | {
      type: 'lora';
      r?: number;
      alpha?: number;
      dropout?: number;
      targetModules?: string[];
    }
  | { type: 'full' };

/**
 * One stage with the settings its user gave (the stage's own, else the experiment's
 * `stageDefaults`). A setting left out stays out: the worker applies the training defaults, which
 * runs.proto documents on each RunSpec field (see the worker README's "Training defaults").
 */
export interface CurriculumStage {
  name?: string;
  kind: StageKindName;
  data: { dataset: string; weight?: number }[];
  lossMask?: 'all_tokens' | 'assistant_only';
  packing?: { enabled?: boolean; maxLength?: number };
  optimizer?: {
    learningRate?: number;
    weightDecay?: number;
    beta1?: number;
    beta2?: number;
    epsilon?: number;
    maxGradNorm?: number;
  };
  schedule?: { kind?: 'cosine' | 'linear' | 'constant'; warmupRatio?: number; minLrRatio?: number };
  budget?: { epochs?: number; maxTokens?: number; maxSteps?: number };
  microBatchSize?: number;
  gradientAccumulationSteps?: number;
  adapter?: AdapterSettings;
  continueAdapter?: boolean;
  reasoning?: 'train' | 'strip';
  gradientCheckpointing?: boolean;
  compile?: boolean;
}

/** A validated curriculum: a base model and its stages, with the datasets they draw from. */
export interface Curriculum {
  name: string;
  baseModel: string;
  /** 0 when not given. */
  seed: number;
  dtype?: string;
  worldSize?: number;
  checkpointEverySteps?: number;
  labels: Record<string, string>;
  datasets: Record<string, DatasetRef>;
  stages: CurriculumStage[];
}

export function resolveAdapter(input: AdapterInput | undefined): AdapterSettings | undefined {
  if (input === undefined) return undefined;
  if (input === 'lora') return { type: 'lora' };
  if (input === 'full' || input.type === 'full') return { type: 'full' };
  return withoutUndefined({ ...input, type: 'lora' as const });
}

/** A stage's settings: its own, else the defaults given (the experiment's `stageDefaults`). */
export function resolveStage(
  input: StageInput,
  defaults: Partial<StageInput> = {},
): CurriculumStage {
  const merged = <T extends object>(key: 'packing' | 'optimizer' | 'schedule' | 'budget') => {
    const value = { ...defaults[key], ...input[key] } as T;
    return Object.keys(withoutUndefined(value)).length > 0 ? withoutUndefined(value) : undefined;
  };
  return withoutUndefined({
    name: input.name,
    kind: input.kind,
    data: input.data.map((source) =>
      typeof source === 'string'
        ? { dataset: source }
        : withoutUndefined({ dataset: source.dataset, weight: source.weight }),
    ),
    lossMask: input.lossMask ?? defaults.lossMask,
    packing: merged<NonNullable<CurriculumStage['packing']>>('packing'),
    optimizer: merged<NonNullable<CurriculumStage['optimizer']>>('optimizer'),
    schedule: merged<NonNullable<CurriculumStage['schedule']>>('schedule'),
    budget: merged<NonNullable<CurriculumStage['budget']>>('budget'),
    microBatchSize: input.microBatchSize ?? defaults.microBatchSize,
    gradientAccumulationSteps:
      input.gradientAccumulationSteps ?? defaults.gradientAccumulationSteps,
    adapter: resolveAdapter(input.adapter ?? defaults.adapter),
    continueAdapter: input.continueAdapter ?? defaults.continueAdapter,
    reasoning: input.reasoning ?? defaults.reasoning,
    gradientCheckpointing: input.gradientCheckpointing ?? defaults.gradientCheckpointing,
    compile: input.compile ?? defaults.compile,
  });
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}

/** Datasets named in a `datasets:` map, with paths made absolute against `baseDir`. */
export function resolveDatasets(
  input: Record<string, DatasetInput> | undefined,
  baseDir: string,
  problems: Problem[],
): Record<string, DatasetRef> {
  const datasets: Record<string, DatasetRef> = {};
  for (const [name, dataset] of Object.entries(input ?? {})) {
    if ((dataset.path === undefined) === (dataset.id === undefined)) {
      problems.push({ path: `datasets.${name}`, message: 'give exactly one of path or id' });
    }
    datasets[name] = {
      name,
      ...(dataset.path !== undefined && { path: absolute(baseDir, dataset.path) }),
      ...(dataset.id !== undefined && { id: dataset.id }),
      ...(dataset.format !== undefined && { format: dataset.format }),
    };
  }
  return datasets;
}

/**
 * Checks what the schema cannot: data names resolve (a name not in `datasets` is taken as a file
 * path and added), formats fit stage kinds, stage names are unique, a continued adapter has one to
 * continue. Pushes every problem found; `prefix` locates the stages, e.g. `arms[2].stages`.
 */
export function checkStages(
  stages: CurriculumStage[],
  datasets: Record<string, DatasetRef>,
  baseDir: string,
  prefix: string,
  problems: Problem[],
): void {
  const names = new Set<string>();
  stages.forEach((stage, index) => {
    const at = `${prefix}[${index}]`;
    if (stage.name !== undefined) {
      if (names.has(stage.name))
        problems.push({ path: `${at}.name`, message: `duplicate stage name "${stage.name}"` });
      names.add(stage.name);
    }
    stage.data.forEach((source, sourceIndex) => {
      let dataset = datasets[source.dataset];
      if (!dataset) {
        if (!/\.jsonl?$/i.test(source.dataset)) {
          problems.push({
            path: `${at}.data[${sourceIndex}]`,
            message: `"${source.dataset}" is neither a dataset named under datasets nor a .jsonl file`,
          });
          return;
        }
        dataset = { name: source.dataset, path: absolute(baseDir, source.dataset) };
        datasets[source.dataset] = dataset;
      }
      const wanted = stage.kind === 'midtrain' ? 'text' : 'chat';
      if (dataset.format !== undefined && dataset.format !== wanted) {
        problems.push({
          path: `${at}.data[${sourceIndex}]`,
          message: `a ${stage.kind} stage trains on ${wanted} data, but "${dataset.name}" is ${dataset.format}`,
        });
      }
    });
    if (stage.continueAdapter) {
      const previous = stages[index - 1];
      if (!previous)
        problems.push({
          path: `${at}.continueAdapter`,
          message: 'the first stage has no previous adapter to continue',
        });
      // An adapter left out is the worker's default, LoRA.
      else if (previous.adapter?.type === 'full' || stage.adapter?.type === 'full')
        problems.push({
          path: `${at}.continueAdapter`,
          message: 'continuing an adapter needs a LoRA adapter in this stage and the previous one',
        });
    }
  });
}

function absolute(baseDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path);
}
