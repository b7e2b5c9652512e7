import { z } from 'zod';

// The curriculum as written (YAML, JSON or a TypeScript object): every hyper-parameter optional,
// unknown keys refused so that a typo is an error rather than a silently ignored setting.

const positive = z.number().positive();
const nonNegative = z.number().nonnegative();
const nonNegativeInt = z.number().int().nonnegative();

export const datasetInputSchema = z.strictObject({
  /** A local JSONL file, relative to the file that names it. */
  path: z.string().min(1).optional(),
  /** A dataset already on the worker (its sha256). */
  id: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits')
    .optional(),
  /** text or chat; detected from the file when left out. */
  format: z.enum(['text', 'chat']).optional(),
});

export const dataSourceInputSchema = z.union([
  z.string().min(1),
  z.strictObject({ dataset: z.string().min(1), weight: positive.optional() }),
]);

export const adapterInputSchema = z.union([
  z.literal('lora'),
  z.literal('full'),
  z.strictObject({
    type: z.literal('lora'),
    r: z.number().int().positive().optional(),
    alpha: positive.optional(),
    dropout: z.number().min(0).max(1).optional(),
    targetModules: z.array(z.string().min(1)).min(1).optional(),
  }),
  z.strictObject({ type: z.literal('full') }),
]);

export const stageInputSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only')
    .optional(),
  kind: z.enum(['midtrain', 'sft']),
  data: z.array(dataSourceInputSchema).min(1, 'a stage needs at least one data source'),
  lossMask: z.enum(['all_tokens', 'assistant_only']).optional(),
  packing: z
    .strictObject({
      enabled: z.boolean().optional(),
      maxLength: z.number().int().positive().optional(),
    })
    .optional(),
  optimizer: z
    .strictObject({
      learningRate: positive.optional(),
      weightDecay: nonNegative.optional(),
      beta1: z.number().min(0).lt(1).optional(),
      beta2: z.number().min(0).lt(1).optional(),
      epsilon: positive.optional(),
      maxGradNorm: nonNegative.optional(),
    })
    .optional(),
  schedule: z
    .strictObject({
      kind: z.enum(['cosine', 'linear', 'constant']).optional(),
      warmupRatio: z.number().min(0).max(1).optional(),
      minLrRatio: z.number().min(0).max(1).optional(),
    })
    .optional(),
  budget: z
    .strictObject({
      epochs: positive.optional(),
      maxTokens: nonNegativeInt.optional(),
      maxSteps: nonNegativeInt.optional(),
    })
    .optional(),
  microBatchSize: nonNegativeInt.optional(),
  gradientAccumulationSteps: nonNegativeInt.optional(),
  adapter: adapterInputSchema.optional(),
  continueAdapter: z.boolean().optional(),
  reasoning: z.enum(['train', 'strip']).optional(),
  gradientCheckpointing: z.boolean().optional(),
  compile: z.boolean().optional(),
});

const runSettings = {
  baseModel: z.string().min(1),
  seed: nonNegativeInt.optional(),
  dtype: z.enum(['float32', 'bfloat16', 'float16']).optional(),
  worldSize: z.number().int().positive().optional(),
  checkpointEverySteps: nonNegativeInt.optional(),
  labels: z.record(z.string(), z.string()).optional(),
};

export const curriculumInputSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9._/-]+$/, 'letters, digits, ".", "_", "/" and "-" only')
    .optional(),
  ...runSettings,
  datasets: z.record(z.string(), datasetInputSchema).optional(),
  stages: z.array(stageInputSchema).min(1, 'a curriculum needs at least one stage'),
});

export const armInputSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only'),
  description: z.string().optional(),
  baseModel: z.string().min(1).optional(),
  /** The arm's stages; none means the untrained base model (a baseline arm). */
  stages: z.array(stageInputSchema),
});

/** An arm of a trainer experiment: inline stages, or a curriculum file the arm takes. */
export const experimentArmInputSchema = armInputSchema.extend({
  stages: armInputSchema.shape.stages.optional(),
  /**
   * A curriculum file (relative to the experiment) whose base model, datasets and stages the arm
   * takes; the experiment's run settings and seeds still apply, its stageDefaults do not.
   */
  curriculum: z.string().min(1).optional(),
});

export const experimentInputSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only'),
  description: z.string().optional(),
  ...runSettings,
  seeds: z.array(nonNegativeInt).min(1).optional(),
  datasets: z.record(z.string(), datasetInputSchema).optional(),
  /** Settings every stage of a kind starts from; an arm's stage overrides them. */
  stageDefaults: z
    .strictObject({
      midtrain: stageInputSchema.partial().omit({ kind: true, data: true }).optional(),
      sft: stageInputSchema.partial().omit({ kind: true, data: true }).optional(),
    })
    .optional(),
  arms: z.array(experimentArmInputSchema).min(1, 'an experiment needs at least one arm'),
});

export type DatasetInput = z.input<typeof datasetInputSchema>;
export type DataSourceInput = z.input<typeof dataSourceInputSchema>;
export type AdapterInput = z.input<typeof adapterInputSchema>;
export type StageInput = z.input<typeof stageInputSchema>;
export type CurriculumInput = z.input<typeof curriculumInputSchema>;
export type ArmInput = z.input<typeof armInputSchema>;
export type ExperimentArmInput = z.input<typeof experimentArmInputSchema>;
export type ExperimentInput = z.input<typeof experimentInputSchema>;
