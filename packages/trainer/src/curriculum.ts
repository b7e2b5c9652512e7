import { isAbsolute, resolve } from 'node:path';
import type { AdapterInput, DatasetInput, StageInput } from './curriculum-schema.js';
import { PUBLISHED_RECIPE } from './recipe-defaults.js';
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
  | { type: 'lora'; r: number; alpha: number; dropout: number; targetModules: string[] }
  | { type: 'full' };

/** One stage with every setting filled in (the published recipe where the input left it out). */
export interface CurriculumStage {
  name: string;
  kind: StageKindName;
  data: { dataset: string; weight: number }[];
  lossMask: 'all_tokens' | 'assistant_only';
  packing: { enabled: boolean; maxLength: number };
  optimizer: {
    learningRate: number;
    weightDecay: number;
    beta1: number;
    beta2: number;
    epsilon: number;
    maxGradNorm: number;
  };
  schedule: { kind: 'cosine' | 'linear' | 'constant'; warmupRatio: number; minLrRatio: number };
  budget: { epochs: number; maxTokens: number; maxSteps: number };
  /** 0: the worker's choice. */
  microBatchSize: number;
  /** 0: the worker's choice. */
  gradientAccumulationSteps: number;
  adapter: AdapterSettings;
  continueAdapter: boolean;
  reasoning: 'train' | 'strip';
  gradientCheckpointing: boolean;
  compile: boolean;
}

/** A validated curriculum: a base model and its stages, with the datasets they draw from. */
export interface Curriculum {
  name: string;
  baseModel: string;
  seed: number;
  /** Empty: the worker's choice for its device. */
  dtype: string;
  worldSize: number;
  /** 0: the worker's default. */
  checkpointEverySteps: number;
  labels: Record<string, string>;
  datasets: Record<string, DatasetRef>;
  stages: CurriculumStage[];
}

export function resolveAdapter(input: AdapterInput | undefined): AdapterSettings {
  if (input === 'full' || (typeof input === 'object' && input.type === 'full'))
    return { type: 'full' };
  const lora: { r?: number; alpha?: number; dropout?: number; targetModules?: string[] } =
    typeof input === 'object' && input.type === 'lora' ? input : {};
  const r = lora.r ?? PUBLISHED_RECIPE.lora.r;
  return {
    type: 'lora',
    r,
    // Twice the rank, as in the published recipe (64 → 128).
    alpha: lora.alpha ?? (lora.r === undefined ? PUBLISHED_RECIPE.lora.alpha : 2 * r),
    dropout: lora.dropout ?? PUBLISHED_RECIPE.lora.dropout,
    targetModules: lora.targetModules ?? [...PUBLISHED_RECIPE.lora.targetModules],
  };
}

/** Fills a stage's unset settings: the defaults given, then the published recipe. */
export function resolveStage(
  input: StageInput,
  index: number,
  defaults: Partial<StageInput> = {},
  previous?: CurriculumStage,
): CurriculumStage {
  const adapter = resolveAdapter(input.adapter ?? defaults.adapter);
  const continueAdapter =
    input.continueAdapter ??
    defaults.continueAdapter ??
    (previous !== undefined &&
      previous.adapter.type === 'lora' &&
      adapter.type === 'lora' &&
      PUBLISHED_RECIPE.continueAdapter);
  return {
    name: input.name ?? (index === 0 ? input.kind : `${input.kind}-${index + 1}`),
    kind: input.kind,
    data: input.data.map((source) =>
      typeof source === 'string'
        ? { dataset: source, weight: 1 }
        : { dataset: source.dataset, weight: source.weight ?? 1 },
    ),
    lossMask: input.lossMask ?? defaults.lossMask ?? PUBLISHED_RECIPE.lossMask[input.kind],
    packing: { ...PUBLISHED_RECIPE.packing, ...defaults.packing, ...input.packing },
    optimizer: { ...PUBLISHED_RECIPE.optimizer, ...defaults.optimizer, ...input.optimizer },
    schedule: { ...PUBLISHED_RECIPE.schedule, ...defaults.schedule, ...input.schedule },
    budget: { ...PUBLISHED_RECIPE.budget, ...defaults.budget, ...input.budget },
    microBatchSize: input.microBatchSize ?? defaults.microBatchSize ?? 0,
    gradientAccumulationSteps:
      input.gradientAccumulationSteps ?? defaults.gradientAccumulationSteps ?? 0,
    adapter,
    continueAdapter,
    reasoning: input.reasoning ?? defaults.reasoning ?? 'train',
    gradientCheckpointing: input.gradientCheckpointing ?? defaults.gradientCheckpointing ?? false,
    compile: input.compile ?? defaults.compile ?? false,
  };
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
    if (names.has(stage.name))
      problems.push({ path: `${at}.name`, message: `duplicate stage name "${stage.name}"` });
    names.add(stage.name);
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
      else if (previous.adapter.type !== 'lora' || stage.adapter.type !== 'lora')
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
