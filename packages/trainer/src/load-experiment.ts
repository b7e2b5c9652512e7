import { dirname, resolve } from 'node:path';
import {
  type Curriculum,
  type CurriculumStage,
  checkStages,
  type DatasetRef,
  resolveDatasets,
  resolveStage,
} from './curriculum.js';
import { type ExperimentInput, experimentInputSchema } from './curriculum-schema.js';
import { loadCurriculum } from './load-curriculum.js';
import { type Problem, TrainerError } from './trainer-error.js';
import { locateProblems, readYamlSource, type YamlSource, zodProblems } from './yaml-source.js';

/** One arm of an experiment: a curriculum; no stages means the untrained base model. */
export interface Arm {
  name: string;
  description: string;
  curriculum: Curriculum;
}

/** Named arms that share datasets, each trained once per seed. */
export interface Experiment {
  name: string;
  description: string;
  seeds: number[];
  datasets: Record<string, DatasetRef>;
  arms: Arm[];
}

export interface ParseExperimentOptions {
  baseDir?: string;
  source?: YamlSource;
  /** The curricula that arms name in `curriculum:`, by the name as written (loadTrainingExperiment reads them). */
  curricula?: Record<string, Curriculum>;
}

/** Validates an experiment; throws a TrainerError listing every problem with its path (and line). */
export function parseExperiment(input: unknown, options: ParseExperimentOptions = {}): Experiment {
  const where = options.source?.file ?? 'experiment';
  const parsed = experimentInputSchema.safeParse(input);
  if (!parsed.success) {
    throw new TrainerError({
      code: 'trainer/invalid-experiment',
      summary: `${where} is not a valid experiment`,
      problems: zodProblems(parsed.error, options.source),
    });
  }
  return checkExperiment(parsed.data, options);
}

/**
 * The checks after the schema, for an experiment whose shape a schema has already checked (the
 * runner validates its files with a schema that embeds this package's arm schema): dataset names
 * resolve, formats fit stage kinds, arm and stage names are unique, seeds distinct. Throws a
 * TrainerError listing every problem with its path (and line, given `options.source`).
 */
export function checkExperiment(
  value: ExperimentInput,
  options: ParseExperimentOptions = {},
): Experiment {
  const where = options.source?.file ?? 'experiment';
  const baseDir = options.baseDir ?? process.cwd();
  const problems: Problem[] = [];
  const datasets = resolveDatasets(value.datasets, baseDir, problems);
  const armNames = new Set<string>();
  const arms = value.arms.map((arm, armIndex): Arm => {
    if (armNames.has(arm.name))
      problems.push({
        path: `arms[${armIndex}].name`,
        message: `duplicate arm name "${arm.name}"`,
      });
    armNames.add(arm.name);
    let stages: CurriculumStage[] = [];
    let baseModel = arm.baseModel ?? value.baseModel;
    if (arm.curriculum !== undefined) {
      const curriculum = options.curricula?.[arm.curriculum];
      if (arm.stages !== undefined)
        problems.push({
          path: `arms[${armIndex}]`,
          message: 'give either stages or a curriculum file, not both',
        });
      else if (curriculum === undefined)
        problems.push({
          path: `arms[${armIndex}].curriculum`,
          message: `curriculum "${arm.curriculum}" was not loaded (loadTrainingExperiment reads curriculum files; parseExperiment takes them in options.curricula)`,
        });
      else {
        stages = shareDatasets(curriculum, arm.name, datasets);
        baseModel = arm.baseModel ?? curriculum.baseModel;
      }
    } else {
      stages = (arm.stages ?? []).map((stage) =>
        resolveStage(stage, value.stageDefaults?.[stage.kind]),
      );
      // Arms share the experiment's datasets: a file named by two arms is uploaded once.
      checkStages(stages, datasets, baseDir, `arms[${armIndex}].stages`, problems);
    }
    return {
      name: arm.name,
      description: arm.description ?? '',
      curriculum: {
        name: `${value.name}/${arm.name}`,
        baseModel,
        seed: value.seed ?? 0,
        ...(value.dtype !== undefined && { dtype: value.dtype }),
        ...(value.worldSize !== undefined && { worldSize: value.worldSize }),
        ...(value.checkpointEverySteps !== undefined && {
          checkpointEverySteps: value.checkpointEverySteps,
        }),
        labels: value.labels ?? {},
        datasets,
        stages,
      },
    };
  });
  const seeds = value.seeds ?? [value.seed ?? 0];
  if (new Set(seeds).size !== seeds.length)
    problems.push({ path: 'seeds', message: 'seeds must be distinct' });
  if (problems.length > 0) {
    throw new TrainerError({
      code: 'trainer/invalid-experiment',
      summary: `${where} is not a valid experiment`,
      problems: locateProblems(problems, options.source),
    });
  }
  return { name: value.name, description: value.description ?? '', seeds, datasets, arms };
}

/**
 * Reads an experiment YAML (or JSON) file, and the curriculum files its arms name; paths are
 * relative to the file that names them.
 */
export async function loadTrainingExperiment(file: string): Promise<Experiment> {
  const path = resolve(file);
  const source = await readYamlSource(path, 'trainer/invalid-experiment');
  const curricula: Record<string, Curriculum> = {};
  const arms = (source.value as { arms?: unknown } | null)?.arms;
  for (const [index, arm] of (Array.isArray(arms) ? arms : []).entries()) {
    const name = (arm as { curriculum?: unknown } | null)?.curriculum;
    if (typeof name !== 'string' || name.length === 0 || name in curricula) continue;
    try {
      curricula[name] = await loadCurriculum(resolve(dirname(path), name));
    } catch (error) {
      if (!TrainerError.isInstance(error)) throw error;
      // Say which arm of which experiment named the file; the curriculum's own problems follow.
      throw new TrainerError({
        code: error.code,
        summary: `${path}: arms[${index}].curriculum: ${error.message.split('\n')[0]}`,
        problems: error.problems,
        cause: error,
      });
    }
  }
  return parseExperiment(source.value, { baseDir: dirname(path), source, curricula });
}

/**
 * The stages of a curriculum an arm takes, drawing on the experiment's datasets: a dataset with
 * the same file (or worker id) as one already there is shared under that name; a new one is added
 * under its own name, or `ARM/NAME` when the experiment uses the name for other data.
 */
function shareDatasets(
  curriculum: Curriculum,
  arm: string,
  datasets: Record<string, DatasetRef>,
): CurriculumStage[] {
  const renamed = new Map<string, string>();
  for (const [name, ref] of Object.entries(curriculum.datasets)) {
    const same = Object.values(datasets).find(
      (known) =>
        (ref.path !== undefined && known.path === ref.path) ||
        (ref.id !== undefined && known.id === ref.id),
    );
    if (same) {
      renamed.set(name, same.name);
      continue;
    }
    const free = datasets[name] === undefined ? name : `${arm}/${name}`;
    datasets[free] = { ...ref, name: free };
    renamed.set(name, free);
  }
  return curriculum.stages.map((stage) => ({
    ...stage,
    data: stage.data.map((source) => ({
      ...source,
      dataset: renamed.get(source.dataset) ?? source.dataset,
    })),
  }));
}

/** A single curriculum as a one-arm experiment, so that both go through the same planning. */
export function curriculumExperiment(curriculum: Curriculum, seeds?: number[]): Experiment {
  return {
    name: curriculum.name,
    description: '',
    seeds: seeds ?? [curriculum.seed],
    datasets: curriculum.datasets,
    arms: [{ name: 'main', description: '', curriculum }],
  };
}
