import { dirname, resolve } from 'node:path';
import {
  type Curriculum,
  type CurriculumStage,
  checkStages,
  resolveDatasets,
  resolveStage,
} from './curriculum.js';
import { type CurriculumInput, curriculumInputSchema } from './curriculum-schema.js';
import { type Problem, TrainerError } from './trainer-error.js';
import { locateProblems, readYamlSource, type YamlSource, zodProblems } from './yaml-source.js';

export interface ParseCurriculumOptions {
  /** Folder that relative data paths start from (default: the current directory). */
  baseDir?: string;
  /** Where the value came from, for line numbers in errors. */
  source?: YamlSource;
}

/**
 * Validates a curriculum (from YAML, JSON or code); settings left out stay out (the worker applies
 * its documented defaults). Throws a TrainerError listing every problem with its path.
 */
export function parseCurriculum(input: unknown, options: ParseCurriculumOptions = {}): Curriculum {
  const parsed = curriculumInputSchema.safeParse(input);
  const where = options.source?.file ?? 'curriculum';
  if (!parsed.success) {
    throw new TrainerError({
      code: 'trainer/invalid-curriculum',
      summary: `${where} is not a valid curriculum`,
      problems: zodProblems(parsed.error, options.source),
    });
  }
  const value = parsed.data;
  const baseDir = options.baseDir ?? process.cwd();
  const problems: Problem[] = [];
  const datasets = resolveDatasets(value.datasets, baseDir, problems);
  const stages: CurriculumStage[] = value.stages.map((stage) => resolveStage(stage));
  checkStages(stages, datasets, baseDir, 'stages', problems);
  if (problems.length > 0) {
    throw new TrainerError({
      code: 'trainer/invalid-curriculum',
      summary: `${where} is not a valid curriculum`,
      problems: locateProblems(problems, options.source),
    });
  }
  return {
    name: value.name ?? 'curriculum',
    baseModel: value.baseModel,
    seed: value.seed ?? 0,
    ...(value.dtype !== undefined && { dtype: value.dtype }),
    ...(value.worldSize !== undefined && { worldSize: value.worldSize }),
    ...(value.checkpointEverySteps !== undefined && {
      checkpointEverySteps: value.checkpointEverySteps,
    }),
    labels: value.labels ?? {},
    datasets,
    stages,
  };
}

/** Reads a curriculum YAML (or JSON) file; data paths are relative to it. */
export async function loadCurriculum(file: string): Promise<Curriculum> {
  const path = resolve(file);
  const source = await readYamlSource(path, 'trainer/invalid-curriculum');
  return parseCurriculum(source.value, { baseDir: dirname(path), source });
}

/** Types a curriculum written in TypeScript; `parseCurriculum` validates it. */
export function defineCurriculum(input: CurriculumInput): CurriculumInput {
  return input;
}
