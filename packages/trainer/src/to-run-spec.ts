import {
  type DeepPartial,
  LossMask,
  ReasoningMode,
  RunSpec,
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

export function toLossMask(mask: NonNullable<CurriculumStage['lossMask']>): LossMask {
  return mask === 'all_tokens' ? LossMask.LOSS_MASK_ALL_TOKENS : LossMask.LOSS_MASK_ASSISTANT_ONLY;
}

/**
 * The wire form of a stage: only the settings its user gave. A field left out stays unset on the
 * wire (proto3 `optional` absent, others 0 / empty / UNSPECIFIED), and the worker applies the
 * default runs.proto documents for it.
 */
function toStage(stage: CurriculumStage, datasetIds: Record<string, string>): DeepPartial<Stage> {
  const { adapter, schedule } = stage;
  return {
    ...(stage.name !== undefined && { name: stage.name }),
    kind: toStageKind(stage.kind),
    data: stage.data.map((source) => ({
      datasetId: datasetIds[source.dataset] ?? '',
      ...(source.weight !== undefined && { weight: source.weight }),
    })),
    ...(stage.lossMask !== undefined && { lossMask: toLossMask(stage.lossMask) }),
    ...(stage.packing && { packing: { ...stage.packing } }),
    ...(stage.optimizer && { optimizer: { ...stage.optimizer } }),
    ...(schedule && {
      schedule: {
        ...(schedule.kind !== undefined && { kind: SCHEDULE_KINDS[schedule.kind] }),
        ...(schedule.warmupRatio !== undefined && { warmupRatio: schedule.warmupRatio }),
        ...(schedule.minLrRatio !== undefined && { minLrRatio: schedule.minLrRatio }),
      },
    }),
    ...(stage.budget && { budget: { ...stage.budget } }),
    ...(stage.microBatchSize !== undefined && { microBatchSize: stage.microBatchSize }),
    ...(stage.gradientAccumulationSteps !== undefined && {
      gradientAccumulationSteps: stage.gradientAccumulationSteps,
    }),
    ...(adapter && {
      adapter:
        adapter.type === 'full'
          ? { adapter: { $case: 'full' as const, full: {} } }
          : {
              adapter: {
                $case: 'lora' as const,
                lora: {
                  ...(adapter.r !== undefined && { r: adapter.r }),
                  ...(adapter.alpha !== undefined && { alpha: adapter.alpha }),
                  ...(adapter.dropout !== undefined && { dropout: adapter.dropout }),
                  ...(adapter.targetModules && { targetModules: [...adapter.targetModules] }),
                },
              },
            },
    }),
    ...(stage.continueAdapter !== undefined && { continueAdapter: stage.continueAdapter }),
    ...(stage.reasoning !== undefined && {
      reasoning:
        stage.reasoning === 'strip'
          ? ReasoningMode.REASONING_MODE_STRIP
          : ReasoningMode.REASONING_MODE_TRAIN,
    }),
    ...(stage.gradientCheckpointing !== undefined && {
      gradientCheckpointing: stage.gradientCheckpointing,
    }),
    ...(stage.compile !== undefined && { compile: stage.compile }),
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
  return RunSpec.fromPartial({
    name: options.name,
    baseModel: curriculum.baseModel,
    stages: curriculum.stages.map((stage) => toStage(stage, options.datasetIds)),
    seed: options.seed,
    ...(curriculum.worldSize !== undefined && { worldSize: curriculum.worldSize }),
    ...(curriculum.checkpointEverySteps !== undefined && {
      checkpointEverySteps: curriculum.checkpointEverySteps,
    }),
    labels: { ...curriculum.labels, ...options.labels },
    ...(curriculum.dtype !== undefined && { dtype: curriculum.dtype }),
  });
}
