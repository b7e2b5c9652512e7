import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseValuePath, parseYamlSource } from '@midspec/core';
import { PROVIDER_NAMES } from '@midspec/docgen';
import { armInputSchema, experimentInputSchema } from '@midspec/trainer';
import { z } from 'zod';
import { RunnerError } from './runner-error.js';
import { checkTraining, type ValidatedTraining } from './validate-training.js';

const name = z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only');
const stageSettings = experimentInputSchema.shape.stageDefaults.unwrap().shape.midtrain.unwrap();

/** The generated toy world (the cheese study's items, prices and origins). */
const worldSchema = z.strictObject({
  seed: z.number().int().nonnegative().default(0),
  trainingDomain: z.string().min(1).default('cheese'),
  heldOutDomains: z
    .array(z.string().min(1))
    .min(1)
    .default(['wine', 'bread', 'coffee', 'olive oil', 'chocolate', 'tea']),
  neutralDocuments: z.number().int().positive().default(1500),
  aftExamples: z.number().int().positive().default(96),
  evalItemsPerDomain: z.number().int().positive().default(6),
  /**
   * How options show their price: `tier`, a tier word beside an origin word ("Chianti (imported,
   * cheap)"), both attributes equally readable; `dollars`, the place and a dollar amount (the harder
   * variant: cheaper-ness means comparing two numbers).
   */
  price: z.enum(['tier', 'dollars']).default('tier'),
});

const providerSchema = z.strictObject({
  provider: z.enum(PROVIDER_NAMES as unknown as ['template', 'openai', 'anthropic', 'worker']),
  model: z.string().min(1).optional(),
  baseUrl: z.string().url().optional(),
  concurrency: z.number().int().positive().optional(),
});

const evalSettings = {
  /** The judge of agentic and spec-question suites, as `midspec eval run --judge` takes it (e.g. anthropic:claude-sonnet-4-5). */
  judge: z.string().min(1).optional(),
  /** Overrides the suite's samples per condition. */
  epochs: z.number().int().positive().optional(),
  /** Only the first N samples per model (a smoke run). */
  limit: z.number().int().positive().optional(),
  /** Overrides the suite's cap on each generated answer (agentic and spec-question suites). */
  maxTokens: z.number().int().min(16).optional(),
};

export const runConfigSchema = z.strictObject({
  name,
  description: z.string().optional(),
  seeds: z.array(z.number().int().nonnegative()).min(1).default([0]),
  world: worldSchema.optional(),
  base: z.strictObject({
    /** tiny:<name>, a Hugging Face folder on the worker, or a hub id. */
    model: z.string().min(1),
    /** First train the base model on the world's neutral corpus; the arms start from its final checkpoint. */
    pretrain: stageSettings.optional(),
  }),
  /**
   * Each spec gets its MSM corpus, named `msm-<name>` for the arms' stages. A spec file is YAML, JSON,
   * or Markdown/plain text as published (`.md`, `.txt`); `variables` fills its `{placeholders}`
   * (e.g. `model_name`), declared or detected.
   */
  specs: z
    .array(
      z.strictObject({
        name,
        file: z.string().min(1),
        variables: z.record(z.string(), z.string()).optional(),
      }),
    )
    .min(1),
  corpus: providerSchema.extend({
    /** @midspec/docgen's corpus options (domains, ideas, maxDocuments, …), checked by docgen. */
    config: z.record(z.string(), z.unknown()).default({}),
    /** Train on pieces of at most this many characters (paragraph boundaries) instead of whole documents. */
    chunkCharacters: z.number().int().min(100).optional(),
  }),
  /** The shared AFT set, named `aft`: the world's ambiguous choices, or demos generated from a spec. */
  demonstrations: z
    .union([
      z.strictObject({ source: z.literal('world') }),
      providerSchema.extend({
        source: z.literal('spec'),
        spec: name,
        config: z.record(z.string(), z.unknown()).default({}),
        withReasoning: z.boolean().default(false),
      }),
    ])
    .optional(),
  /** Further datasets the arms may name (paths relative to this file). */
  datasets: experimentInputSchema.shape.datasets,
  stageDefaults: experimentInputSchema.shape.stageDefaults,
  // Inline stages only: a runner arm is trained on the corpora and demonstrations it generates.
  arms: z.array(armInputSchema).min(1, 'an experiment needs at least one arm'),
  /** Suites: `world` (the generated held-out suite) or a suite file. */
  evals: z
    .array(
      z.union([
        z.strictObject({ suite: z.literal('world'), ...evalSettings }),
        z.strictObject({ file: z.string().min(1), ...evalSettings }),
      ]),
    )
    .min(1),
  report: z
    .strictObject({
      /** What the rate means, for the report's heading, e.g. "p(cheaper)". */
      rateName: z.string().default('rate'),
      /** The contrasts to report: treated − control on `after`, and the difference-in-differences vs `before`. */
      contrasts: z
        .array(
          z.strictObject({
            treated: name,
            control: name,
            before: z.string().default('training'),
            after: z.string().default('held-out'),
          }),
        )
        .default([]),
      /** Training steps per second on the worker, for --dry-run's time estimate. */
      stepsPerSecond: z.number().positive().optional(),
    })
    .default({ rateName: 'rate', contrasts: [] }),
});

export type RunConfig = z.output<typeof runConfigSchema>;
export type RunConfigInput = z.input<typeof runConfigSchema>;
export type WorldConfig = z.output<typeof worldSchema>;

export interface LoadedRunConfig {
  config: RunConfig;
  /** The training part, checked with the trainer's rules when the file was read (see validate-training.ts). */
  training: ValidatedTraining;
  /** Absolute path of the file; relative paths in it resolve against its folder. */
  file: string;
  baseDir: string;
  /** The file's text, part of the cache keys of steps that depend on the whole file. */
  text: string;
}

/**
 * The one validation of an experiment, at the boundary: the schema, the runner's cross-field rules
 * and the trainer's rules for the arms (dataset names, formats, stage names, seeds) — every problem
 * of all three listed together, each with its path and, for files, its line. Nothing after this
 * validates the experiment again.
 */
export function validateExperiment(
  input: unknown,
  options: {
    baseDir: string;
    where?: string;
    lineOf?: (path: readonly PropertyKey[]) => number | undefined;
  },
): { config: RunConfig; training: ValidatedTraining } {
  const where = options.where ?? 'experiment';
  const at = (path: string, line: number | undefined) =>
    `  ${where}${line ? `:${line}` : ''}: ${path || '(root)'}`;
  const parsed = runConfigSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) =>
        `${at(issue.path.map(String).join('.'), options.lineOf?.(issue.path))}: ${issue.message}`,
    );
    throw invalid(where, problems);
  }
  const config = parsed.data;
  const problems = crossFieldProblems(config).map(
    ({ path, message }) => `${at(path, options.lineOf?.(parseValuePath(path)))}: ${message}`,
  );
  const { training, problems: trainingProblems } = checkTraining(config, options.baseDir);
  problems.push(
    ...trainingProblems.map(
      ({ path, message }) => `${at(path, options.lineOf?.(parseValuePath(path)))}: ${message}`,
    ),
  );
  if (problems.length > 0) throw invalid(where, problems);
  return { config, training: training as ValidatedTraining };
}

function invalid(where: string, problems: string[]): RunnerError {
  return new RunnerError({
    code: 'runner/invalid-experiment',
    message: `${where} is not a valid experiment\n${problems.join('\n')}`,
  });
}

/** What the schema cannot check and the trainer does not know: references between the runner's own sections. */
function crossFieldProblems(config: RunConfig): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  const specNames = new Set(config.specs.map((spec) => spec.name));
  if (config.world === undefined && config.base.pretrain)
    problems.push({
      path: 'base.pretrain',
      message: 'needs world: (the neutral corpus comes from the generated world)',
    });
  config.evals.forEach((entry, index) => {
    if ('suite' in entry && config.world === undefined)
      problems.push({ path: `evals[${index}]`, message: 'the `world` suite needs world:' });
    if ('suite' in entry && entry.maxTokens !== undefined)
      problems.push({
        path: `evals[${index}].maxTokens`,
        message: 'the world suite scores choices; it generates nothing',
      });
  });
  if (config.demonstrations?.source === 'world' && config.world === undefined)
    problems.push({ path: 'demonstrations.source', message: 'world needs world:' });
  if (config.demonstrations?.source === 'spec' && !specNames.has(config.demonstrations.spec))
    problems.push({
      path: 'demonstrations.spec',
      message: `no spec named "${config.demonstrations.spec}"`,
    });
  const armNames = new Set(config.arms.map((arm) => arm.name));
  config.report.contrasts.forEach((contrast, index) => {
    for (const key of ['treated', 'control'] as const)
      if (!armNames.has(contrast[key]))
        problems.push({
          path: `report.contrasts[${index}].${key}`,
          message: `no arm named "${contrast[key]}"`,
        });
  });
  return problems;
}

export async function loadRunConfig(file: string): Promise<LoadedRunConfig> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new RunnerError({
      code: 'runner/unreadable',
      message: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
      cause: error,
    });
  }
  const source = parseYamlSource(text);
  if (source.problems.length > 0) {
    const problems = source.problems.map(
      (problem) => `  ${file}:${problem.line}: ${problem.message}`,
    );
    throw new RunnerError({
      code: 'runner/invalid-experiment',
      message: `${file} is not valid YAML\n${problems.join('\n')}`,
    });
  }
  const baseDir = dirname(path);
  const { config, training } = validateExperiment(source.value, {
    baseDir,
    where: file,
    lineOf: (issuePath) => source.locate([...issuePath])?.line,
  });
  return { config, training, file: path, baseDir, text };
}
