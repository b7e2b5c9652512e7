import {
  LossMask,
  ReasoningMode,
  type RunSpec,
  ScheduleKind,
  type Stage,
  StageKind,
} from '@midspec/proto';
import type { Curriculum, CurriculumStage } from './curriculum.js';

const SCHEDULE_KINDS = {
  cosine: ScheduleKind.SCHEDULE_KIND_COSINE,
  linear: ScheduleKind.SCHEDULE_KIND_LINEAR,
  constant: ScheduleKind.SCHEDULE_KIND_CONSTANT,
} as const;

export function toStageKind(kind: CurriculumStage['kind']): StageKind {
  return kind === 'midtrain' ? StageKind.STAGE_KIND_MIDTRAIN : StageKind.STAGE_KIND_SFT;
}

export function toLossMask(mask: CurriculumStage['lossMask']): LossMask {
  return mask === 'all_tokens' ? LossMask.LOSS_MASK_ALL_TOKENS : LossMask.LOSS_MASK_ASSISTANT_ONLY;
}

function toStage(stage: CurriculumStage, datasetIds: Record<string, string>): Stage {
  return {
    name: stage.name,
    kind: toStageKind(stage.kind),
    data: stage.data.map((source) => ({
      datasetId: datasetIds[source.dataset] ?? '',
      weight: source.weight,
    })),
    lossMask: toLossMask(stage.lossMask),
    packing: { ...stage.packing },
    optimizer: { ...stage.optimizer },
    schedule: {
      kind: SCHEDULE_KINDS[stage.schedule.kind],
      warmupRatio: stage.schedule.warmupRatio,
      minLrRatio: stage.schedule.minLrRatio,
    },
    budget: { ...stage.budget },
    microBatchSize: stage.microBatchSize,
    gradientAccumulationSteps: stage.gradientAccumulationSteps,
    adapter:
      stage.adapter.type === 'full'
        ? { adapter: { $case: 'full', full: {} } }
        : {
            adapter: {
              $case: 'lora',
              lora: {
                r: stage.adapter.r,
                alpha: stage.adapter.alpha,
                dropout: stage.adapter.dropout,
                targetModules: [...stage.adapter.targetModules],
              },
            },
          },
    continueAdapter: stage.continueAdapter,
    reasoning:
      stage.reasoning === 'strip'
        ? ReasoningMode.REASONING_MODE_STRIP
        : ReasoningMode.REASONING_MODE_TRAIN,
    gradientCheckpointing: stage.gradientCheckpointing,
    compile: stage.compile,
  };
}

/** The wire RunSpec of a curriculum, given the worker dataset id (sha256) of each dataset name. */
export function toRunSpec(
  curriculum: Curriculum,
  options: {
    name: string;
    seed: number;
    datasetIds: Record<string, string>;
    labels?: Record<string, string>;
  },
): RunSpec {
  return {
    name: options.name,
    baseModel: curriculum.baseModel,
    stages: curriculum.stages.map((stage) => toStage(stage, options.datasetIds)),
    seed: options.seed,
    worldSize: curriculum.worldSize,
    checkpointEverySteps: curriculum.checkpointEverySteps,
    labels: { ...curriculum.labels, ...options.labels },
    dtype: curriculum.dtype,
  };
}
