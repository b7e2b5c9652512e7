import { resolve } from 'node:path';
import { resolveBackend, runEval, type Suite } from '@midspec/eval';
import type { Checkpoint } from '@midspec/proto';
import { listCheckpoints } from '@midspec/trainer';
import type { ExperimentStep } from './experiment-steps.js';
import type { EvaluatedModel, PipelineProbes, PipelineState } from './pipeline-state.js';
import { cachedStep } from './run-cache.js';
import type { RunConfig } from './run-config.js';
import { type ProbeOutcome, scoreProbe } from './run-probes.js';
import { writeExperimentReport } from './run-report.js';
import { type SharedStages, sharedStagePrefixes, stageEndCheckpoint } from './run-shared-stages.js';
import { trainExperiment } from './run-training.js';
import { RunnerError } from './runner-error.js';
import type { TaskProgress } from './runner-events.js';
import { withGeneratedData } from './validate-training.js';

const closeBackend = (backend: unknown) =>
  (backend as { close?: () => Promise<void> }).close?.() ?? Promise.resolve();

/** The base model trained on the world's neutral corpus; the arms start from its final checkpoint. */
export function baseStep(config: RunConfig): ExperimentStep {
  return {
    id: 'base',
    kind: 'base',
    label: `base: pretrain ${config.base.model} on the neutral corpus`,
    run: async (state, context) => {
      const { training } = context.loaded;
      const experiment = withGeneratedData(
        training.base as NonNullable<typeof training.base>,
        { neutral: 'text' },
        { neutral: state.generatedFiles.neutral as string },
      );
      const [run] = await trainExperiment(context.client, experiment, context.events, {
        signal: context.signal,
      });
      if (!run?.finalPath)
        throw new RunnerError({
          code: 'runner/run-failed',
          message: `the base run ${run?.runId} has no final merged checkpoint to train the arms from`,
        });
      state.base = { model: run.finalPath, run };
      return {
        summary: `${run.alreadyExisted ? 'found on the worker' : 'trained'}: ${run.runId}`,
        cached: run.alreadyExisted,
      };
    },
  };
}

/** Before any arm is trained: can the base model read both attributes of held-out options? */
export function readabilityProbeStep(): ExperimentStep {
  return {
    id: 'probe:readability',
    kind: 'probe',
    label: 'probe: does the base model read price and origin of held-out pairs?',
    cache: (state) => ({
      folder: 'probes',
      name: 'readability',
      inputs: { step: 'probe', sets: state.probeSets?.readability, model: state.base.model },
    }),
    run: async (state, { backendFor, signal }, at) => {
      const { dir, key } = at as { dir: string; key: string };
      const sets = state.probeSets?.readability ?? [];
      const step = await cachedStep(dir, key, async () => {
        const backend = backendFor(state.base.model);
        try {
          const found: PipelineProbes['readability'] = [];
          for (const set of sets) {
            const outcomes = await scoreProbe(backend, set, { signal });
            const scored = outcomes.filter((outcome) => outcome.hit !== null);
            found.push({
              id: set.id,
              rate: scored.filter((outcome) => outcome.hit).length / Math.max(1, scored.length),
              n: scored.length,
              outcomes,
            });
          }
          return found;
        } finally {
          await closeBackend(backend);
        }
      });
      state.readability = step.value;
      return {
        summary: step.value
          .map((probe) => `${probe.id} ${probe.rate.toFixed(2)} (n=${probe.n})`)
          .join(', '),
        cached: step.cached,
      };
    },
  };
}

/** Every arm × seed trained on the worker; a rerun finds the runs there by their idempotency keys. */
export function armsStep(config: RunConfig): ExperimentStep {
  const ownBaseModel = new Set(
    config.arms.filter((arm) => arm.baseModel !== undefined).map((arm) => arm.name),
  );
  const shared = sharedStagePrefixes(config.arms);
  return {
    id: 'arms',
    kind: 'arms',
    label: `arms: ${config.arms.length} × ${config.seeds.length} seeds`,
    run: async (state, context) => {
      const { training } = context.loaded;
      const all = withGeneratedData(training.arms, training.generated, state.generatedFiles, {
        baseModel: state.base.model,
        ownBaseModel,
      });
      // Arms whose stages open a longer arm's (MSM-only vs MSM+AFT) are read from its runs.
      const experiment = { ...all, arms: all.arms.filter((arm) => !shared.has(arm.name)) };
      const runs = await trainExperiment(context.client, experiment, context.events, {
        signal: context.signal,
      });
      state.runs = runs;
      state.models = await evaluatedModels(config, runs, state.base.model, shared, (runId) =>
        listCheckpoints(context.client, runId, { signal: context.signal }),
      );
      const reused = runs.filter((run) => run.alreadyExisted).length;
      return {
        summary: `${runs.length} runs (${reused} found on the worker, ${runs.length - reused} trained)${shared.size > 0 ? `; ${[...shared.keys()].join(', ')} read from the shared stages' checkpoints` : ''}`,
        cached: runs.length > 0 && reused === runs.length,
      };
    },
  };
}

/**
 * The models an eval scores: each trained arm at each seed, an untrained arm once, an arm that
 * shares its stages with a longer one at the checkpoint where the shared stages end.
 */
async function evaluatedModels(
  config: RunConfig,
  runs: PipelineState['runs'],
  baseModel: string,
  shared: Map<string, SharedStages>,
  checkpointsOf: (runId: string) => Promise<Checkpoint[]>,
): Promise<EvaluatedModel[]> {
  const models: EvaluatedModel[] = [];
  for (const arm of config.arms) {
    if (arm.stages.length === 0) {
      models.push({
        name: arm.name,
        arm: arm.name,
        seed: undefined,
        model: arm.baseModel ?? baseModel,
      });
      continue;
    }
    const from = shared.get(arm.name);
    for (const seed of config.seeds) {
      const run = runs.find(
        (candidate) => candidate.arm === (from?.source ?? arm.name) && candidate.seed === seed,
      );
      if (!run) continue;
      let model = `run:${run.runId}`;
      if (from) {
        const checkpoint = stageEndCheckpoint(await checkpointsOf(run.runId), from.stages - 1);
        if (!checkpoint)
          throw new RunnerError({
            code: 'runner/run-failed',
            message: `arm ${arm.name} is read from run ${run.runId} (${from.source}, seed ${seed}) at the end of its stage ${from.stages - 1}, but that run has no checkpoint of that stage`,
          });
        model = `run:${run.runId}/${checkpoint.id}`;
      }
      models.push({ name: `${arm.name}/seed-${seed}`, arm: arm.name, seed, model });
    }
  }
  return models;
}

type EvalEntry = RunConfig['evals'][number];

/** The suite as this eval asks it: a cap on answers is part of the suite, so of its samples' keys. */
function suiteOf(state: PipelineState, entry: EvalEntry): Suite {
  const loaded =
    'suite' in entry ? (state.worldSuite as Suite) : (state.fileSuites.get(entry.file) as Suite);
  return entry.maxTokens !== undefined && loaded.kind !== 'preference-choice'
    ? { ...loaded, maxTokens: entry.maxTokens }
    : loaded;
}

/** One suite over every evaluated model; it resumes from its own sample log, not a step marker. */
export function evalStep(index: number, entry: EvalEntry): ExperimentStep {
  return {
    id: `eval:${index}`,
    kind: 'eval',
    label: `eval ${'suite' in entry ? 'world' : entry.file}`,
    // Run ids name the trained weights, so the key changes exactly when a model or the suite does.
    cache: (state) => {
      const suite = suiteOf(state, entry);
      return {
        folder: 'evals',
        name: suite.id,
        inputs: {
          step: 'eval',
          suite,
          models: state.models,
          judge: entry.judge,
          epochs: entry.epochs,
          limit: entry.limit,
        },
      };
    },
    run: async (state, { events, env, signal, backendFor }, at) => {
      const { dir } = at as { dir: string; key: string };
      const suite = suiteOf(state, entry);
      const models = state.models;
      events.note(`suite ${suite.id}: ${models.length} models`);
      // `worker:MODEL` is a model on this experiment's own worker, whose address a local worker only learns at start.
      const judge = entry.judge
        ? entry.judge.startsWith('worker:') && !entry.judge.startsWith('worker://')
          ? backendFor(entry.judge.slice('worker:'.length))
          : resolveBackend(entry.judge, env).backend
        : undefined;
      const backends = models.map((model) => ({
        name: model.name,
        backend: backendFor(model.model),
      }));
      let bar: TaskProgress | undefined;
      let result: Awaited<ReturnType<typeof runEval>>;
      try {
        result = await runEval({
          suite,
          arms: backends,
          ...(judge && { judge }),
          ...(entry.epochs !== undefined && { epochs: entry.epochs }),
          ...(entry.limit !== undefined && { limit: entry.limit }),
          outDir: dir,
          signal,
          onProgress: (progress) => {
            bar ??= events.task('  samples', progress.total);
            bar.update(progress.done, { unscored: String(progress.unscored) }, progress.total);
          },
        });
        bar?.done();
      } finally {
        await Promise.all(backends.map(({ backend }) => closeBackend(backend)));
      }
      state.evals.push({ suite: suite.id, dir, models });
      return {
        summary: `${result.total} samples: ${result.resumed} from the log, ${result.scored} scored now, ${result.unscored} unscored`,
        cached: result.resumed === result.total,
      };
    },
  };
}

/** Every model in the MSM documents' own dialogue format. */
export function dialogueProbeStep(): ExperimentStep {
  return {
    id: 'probe:dialogue',
    kind: 'probe',
    label: "probe dialogue: every model in the MSM documents' format",
    cache: (state) => ({
      folder: 'probes',
      name: state.probeSets?.dialogue.id ?? 'dialogue',
      inputs: { step: 'probe', set: state.probeSets?.dialogue, models: state.models },
    }),
    run: async (state, { events, backendFor, signal }, at) => {
      const { dir, key } = at as { dir: string; key: string };
      const set = state.probeSets?.dialogue;
      const models = state.models;
      if (!set || !state.readability)
        throw new Error('internal: the dialogue probe runs after the world and readability steps');
      events.note(`${models.length} models in the MSM documents' format`);
      const step = await cachedStep(dir, key, async () => {
        const outcomes: Record<string, ProbeOutcome[]> = {};
        for (const model of models) {
          const backend = backendFor(model.model);
          try {
            outcomes[model.name] = await scoreProbe(backend, set, { signal });
          } finally {
            await closeBackend(backend);
          }
        }
        return outcomes;
      });
      state.probes = {
        readability: state.readability,
        dialogue: { dir: step.dir, models, outcomes: step.value },
      };
      return {
        summary: `${Object.values(step.value).reduce((sum, list) => sum + list.length, 0)} choices`,
        cached: step.cached,
      };
    },
  };
}

/** report.md and report.json at the top of the output folder, and each suite's own report. */
export function reportStep(): ExperimentStep {
  return {
    id: 'report',
    kind: 'report',
    label: 'report',
    run: async (state, { outDir }) => {
      state.report = await writeExperimentReport(outDir, state);
      return { summary: resolve(outDir, 'report.md'), cached: false };
    },
  };
}
