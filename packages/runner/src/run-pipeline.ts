import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createProvider, generateCorpus, generateDemos } from '@midspec/docgen';
import {
  type Backend,
  loadSuite,
  parseSuite,
  resolveBackend,
  runEval,
  type Suite,
  WorkerBackend,
} from '@midspec/eval';
import type { WorkerClient } from '@midspec/proto';
import { loadSpec, type Spec } from '@midspec/spec';
import { type DatasetInput, type ExperimentInput, listCheckpoints } from '@midspec/trainer';
import { cachedStep, stepDir, stepKey, writeJsonl } from './run-cache.js';
import { chunkDocuments } from './run-chunks.js';
import type { LoadedRunConfig, RunConfig } from './run-config.js';
import {
  dialogueProbe,
  type ProbeOutcome,
  type ProbeSet,
  readabilityProbes,
  scoreProbe,
} from './run-probes.js';
import { sharedStagePrefixes, stageEndCheckpoint } from './run-shared-stages.js';
import { planTraining, type TrainedRun, trainPlan } from './run-training.js';
import { aftChats, buildWorld, entitiesOf, neutralDocuments, worldSuite } from './run-world.js';
import { RunnerError } from './runner-error.js';
import type { RunnerEvents, TaskProgress } from './runner-events.js';

export interface RunPipelineOptions {
  loaded: LoadedRunConfig;
  outDir: string;
  client: WorkerClient;
  /** HOST:PORT of the same worker, for the eval backends. */
  address: string;
  events: RunnerEvents;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** How an eval reaches a model ("tiny:llama", a folder, "run:ID"); default the worker's RPCs. */
  backendFor?: (model: string) => Backend;
}

/** One evaluated model: a training arm at one seed (or the untrained baseline, once). */
export interface EvaluatedModel {
  /** The eval's arm name: `<arm>/seed-<n>`, or the arm alone when it has no training. */
  name: string;
  arm: string;
  seed: number | undefined;
  model: string;
}

export interface PipelineResult {
  config: RunConfig;
  corpora: Record<string, { path: string; documents: number; pieces: number | undefined }>;
  world: { dir: string; items: number; neutralDocuments: number; aftExamples: number } | undefined;
  /** `aft`, and `aft-reasoning` (spec-citing reasoning kept) when the demos were generated with it. */
  aft: { path: string; examples: number; reasoningPath?: string } | undefined;
  base: { model: string; run: TrainedRun | undefined };
  runs: TrainedRun[];
  evals: Array<{ suite: string; dir: string; models: EvaluatedModel[] }>;
  /** The world's probes (see run-probes.ts): the base model's readability, every model's dialogue choice. */
  probes: PipelineProbes | undefined;
}

export interface PipelineProbes {
  /** Per readability probe (cheaper, American): the base model's outcomes and hit rate. */
  readability: Array<{ id: string; rate: number; n: number; outcomes: ProbeOutcome[] }>;
  /** The dialogue probe, per evaluated model (by its eval name). */
  dialogue: { dir: string; models: EvaluatedModel[]; outcomes: Record<string, ProbeOutcome[]> };
}

/**
 * spec → world → corpora → demonstrations → base pretraining → arms × seeds → evals. Every step is
 * cached by the content of its inputs (see run-cache.ts); the training runs are found again on the
 * worker by their idempotency keys; the evals resume from their sample logs.
 */
export async function runPipeline(options: RunPipelineOptions): Promise<PipelineResult> {
  const { loaded, outDir, client, events, signal } = options;
  const { config, baseDir } = loaded;

  events.step('specs');
  const specs = new Map<string, { spec: Spec; text: string; variables?: Record<string, string> }>();
  for (const entry of config.specs) {
    const file = resolve(baseDir, entry.file);
    const { spec } = await loadSpec(file);
    const text = await readFile(file, 'utf8');
    specs.set(entry.name, {
      spec,
      text,
      ...(entry.variables ? { variables: entry.variables } : {}),
    });
  }
  // Suite files too, before anything is generated or trained: a mistake in one should not wait
  // for the eval step to show.
  const fileSuites = new Map<string, Suite>();
  for (const entry of config.evals)
    if ('file' in entry)
      fileSuites.set(entry.file, (await loadSuite(resolve(baseDir, entry.file))).suite);
  events.done(
    `${specs.size} specs valid${fileSuites.size > 0 ? `, ${fileSuites.size} suites valid` : ''}`,
  );

  let world: PipelineResult['world'];
  let suiteFromWorld: Suite | undefined;
  let neutralPath: string | undefined;
  let worldAftPath: string | undefined;
  let probeSets: { readability: ProbeSet[]; dialogue: ProbeSet } | undefined;
  if (config.world) {
    const settings = config.world;
    events.step('world');
    const entities = entitiesOf([...specs.values()].map(({ spec }) => spec));
    // version 3: price tiers, the comparison sentences, the probes; 4: attribute words as the
    // tokenizer reads them ("Chianti, imported and affordable").
    const key = stepKey({ step: 'world', version: 4, settings, entities });
    const step = await cachedStep(stepDir(outDir, 'world', 'world', key), key, async (dir) => {
      const built = buildWorld(settings, entities);
      const documents = neutralDocuments(built, settings);
      const chats = aftChats(built, settings);
      await writeJsonl(join(dir, 'items.jsonl'), built.items);
      await writeJsonl(join(dir, 'neutral.jsonl'), documents);
      await writeJsonl(join(dir, 'aft.jsonl'), chats);
      await writeFile(
        join(dir, 'suite.json'),
        `${JSON.stringify(worldSuite(built, settings), null, 2)}\n`,
      );
      await writeFile(
        join(dir, 'probes.json'),
        `${JSON.stringify({ readability: readabilityProbes(built, settings), dialogue: dialogueProbe(built, settings) }, null, 2)}\n`,
      );
      return {
        items: built.items.length,
        neutralDocuments: documents.length,
        aftExamples: chats.length,
      };
    });
    world = { dir: step.dir, ...step.value };
    neutralPath = join(step.dir, 'neutral.jsonl');
    worldAftPath = join(step.dir, 'aft.jsonl');
    const suitePath = join(step.dir, 'suite.json');
    suiteFromWorld = parseSuite(await readFile(suitePath, 'utf8'), suitePath);
    probeSets = JSON.parse(await readFile(join(step.dir, 'probes.json'), 'utf8'));
    events.done(
      `${world.items} items, ${world.neutralDocuments} neutral documents, ${world.aftExamples} AFT chats`,
      step.cached,
    );
  }

  const corpora: PipelineResult['corpora'] = {};
  for (const [name, { spec, text, variables }] of specs) {
    events.step(`corpus:msm-${name}`);
    const { config: corpusConfig, chunkCharacters, ...provider } = config.corpus;
    const key = stepKey({ step: 'corpus', spec: text, variables, provider, config: corpusConfig });
    let bar: TaskProgress | undefined;
    let stage = '';
    const step = await cachedStep(stepDir(outDir, 'corpus', name, key), key, async (dir) => {
      const result = await generateCorpus({
        spec,
        ...(variables ? { variables } : {}),
        provider: createProvider({ ...provider, env: options.env }),
        outDir: dir,
        config: corpusConfig,
        signal,
        onProgress: (progress) => {
          if (progress.stage !== stage) {
            bar?.done();
            stage = progress.stage;
            bar = events.task(`  ${progress.stage}`, progress.total);
          }
          bar?.update(progress.done, {}, progress.total);
        },
      });
      bar?.done();
      return { documents: result.documents.length };
    });
    corpora[name] = {
      path: join(step.dir, 'dataset.jsonl'),
      documents: step.value.documents,
      pieces: undefined,
    };
    if (chunkCharacters) {
      // A step of its own, so changing the piece size never regenerates the corpus. `splitter`
      // changes with the cutting rules (2: numbers such as $24.99 and dialogue lines stay whole).
      const chunkKey = stepKey({ step: 'chunks', splitter: 2, corpus: key, chunkCharacters });
      const chunked = await cachedStep(
        stepDir(outDir, 'corpus', `${name}-chunks`, chunkKey),
        chunkKey,
        async (dir) => {
          const lines = (await readFile(join(step.dir, 'dataset.jsonl'), 'utf8'))
            .split('\n')
            .filter(Boolean);
          const pieces = chunkDocuments(
            lines.map((line) => (JSON.parse(line) as { text: string }).text),
            chunkCharacters,
          );
          await writeJsonl(join(dir, 'dataset.jsonl'), pieces);
          return { pieces: pieces.length };
        },
      );
      corpora[name] = {
        ...corpora[name],
        path: join(chunked.dir, 'dataset.jsonl'),
        pieces: chunked.value.pieces,
      };
    }
    events.done(
      `${step.value.documents} documents${corpora[name].pieces ? ` in ${corpora[name].pieces} pieces of ≤ ${chunkCharacters} characters` : ''}`,
      step.cached,
    );
  }

  let aft: PipelineResult['aft'];
  const demonstrations = config.demonstrations;
  if (demonstrations?.source === 'spec') {
    events.step('demonstrations');
    const { spec, text, variables } = specs.get(demonstrations.spec) as {
      spec: Spec;
      text: string;
      variables?: Record<string, string>;
    };
    const {
      config: demosConfig,
      withReasoning,
      source: _source,
      spec: _spec,
      ...provider
    } = demonstrations;
    const key = stepKey({
      step: 'demos',
      spec: text,
      variables,
      provider,
      config: demosConfig,
      withReasoning,
    });
    const step = await cachedStep(
      stepDir(outDir, 'demos', demonstrations.spec, key),
      key,
      async (dir) => {
        const result = await generateDemos({
          spec,
          ...(variables ? { variables } : {}),
          provider: createProvider({ ...provider, env: options.env }),
          outDir: dir,
          config: { ...demosConfig, withReasoning },
          signal,
        });
        return { examples: result.examples.length };
      },
    );
    aft = {
      path: join(step.dir, 'dataset.jsonl'),
      examples: step.value.examples,
      ...(withReasoning && { reasoningPath: join(step.dir, 'dataset-with-reasoning.jsonl') }),
    };
    events.done(`${aft.examples} chats`, step.cached);
  } else if (demonstrations?.source === 'world' && worldAftPath && world) {
    aft = { path: worldAftPath, examples: world.aftExamples };
  }

  const datasets: Record<string, DatasetInput> = {};
  for (const [name, corpus] of Object.entries(corpora))
    datasets[`msm-${name}`] = { path: corpus.path, format: 'text' };
  if (aft) datasets.aft = { path: aft.path, format: 'chat' };
  if (aft?.reasoningPath) datasets['aft-reasoning'] = { path: aft.reasoningPath, format: 'chat' };
  if (neutralPath) datasets.neutral = { path: neutralPath, format: 'text' };
  for (const [name, dataset] of Object.entries(config.datasets ?? {}))
    datasets[name] = dataset.path ? { ...dataset, path: resolve(baseDir, dataset.path) } : dataset;

  let baseModel = config.base.model;
  let baseRun: TrainedRun | undefined;
  if (config.base.pretrain && neutralPath) {
    events.step('base');
    const input: ExperimentInput = {
      name: `${config.name}-base`,
      baseModel: config.base.model,
      seeds: [config.world?.seed ?? 0],
      datasets: { neutral: { path: neutralPath, format: 'text' } },
      arms: [
        {
          name: 'pretrain',
          stages: [
            {
              adapter: 'full',
              ...config.base.pretrain,
              name: 'pretrain',
              kind: 'midtrain',
              data: ['neutral'],
            },
          ],
        },
      ],
    };
    const plan = await planTraining(input, baseDir, { signal });
    [baseRun] = await trainPlan(client, plan, events, { signal });
    if (!baseRun?.finalPath)
      throw new RunnerError({
        code: 'runner/run-failed',
        message: `the base run ${baseRun?.runId} has no final merged checkpoint to train the arms from`,
      });
    baseModel = baseRun.finalPath;
    events.done(
      `${baseRun.alreadyExisted ? 'found on the worker' : 'trained'}: ${baseRun.runId}`,
      baseRun.alreadyExisted,
    );
  }

  const backendFor =
    options.backendFor ?? ((model: string) => workerBackend(options.address, model));
  let readability: PipelineProbes['readability'] | undefined;
  if (probeSets) {
    // Before any arm is trained: can the base model read both attributes of held-out options?
    const sets = probeSets.readability;
    events.step('probe:readability');
    const key = stepKey({ step: 'probe', sets, model: baseModel });
    const step = await cachedStep(stepDir(outDir, 'probes', 'readability', key), key, async () => {
      const backend = backendFor(baseModel);
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
        await (backend as { close?: () => Promise<void> }).close?.();
      }
    });
    readability = step.value;
    events.done(
      readability.map((probe) => `${probe.id} ${probe.rate.toFixed(2)} (n=${probe.n})`).join(', '),
      step.cached,
    );
  }

  events.step('arms');
  // Arms whose stages open a longer arm's (MSM-only vs MSM+AFT) are read from its runs.
  const shared = sharedStagePrefixes(config.arms);
  const trainedArms = config.arms.filter((arm) => arm.stages.length > 0 && !shared.has(arm.name));
  const experiment: ExperimentInput = {
    name: config.name,
    baseModel,
    seeds: config.seeds,
    datasets,
    ...(config.stageDefaults && { stageDefaults: config.stageDefaults }),
    arms: trainedArms,
  };
  const plan =
    trainedArms.length > 0 ? await planTraining(experiment, baseDir, { signal }) : undefined;
  const runs = plan ? await trainPlan(client, plan, events, { signal }) : [];
  const reused = runs.filter((run) => run.alreadyExisted).length;
  events.done(
    `${runs.length} runs (${reused} found on the worker, ${runs.length - reused} trained)${shared.size > 0 ? `; ${[...shared.keys()].join(', ')} read from the shared stages' checkpoints` : ''}`,
    runs.length > 0 && reused === runs.length,
  );

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
        const checkpoint = stageEndCheckpoint(
          await listCheckpoints(client, run.runId, { signal }),
          from.stages - 1,
        );
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

  const evals: PipelineResult['evals'] = [];
  for (const [index, entry] of config.evals.entries()) {
    const loadedSuite =
      'suite' in entry ? (suiteFromWorld as Suite) : (fileSuites.get(entry.file) as Suite);
    // Part of the suite, so of the eval's key and its samples' keys: a capped answer is another sample.
    const suite: Suite =
      entry.maxTokens !== undefined && loadedSuite.kind !== 'preference-choice'
        ? { ...loadedSuite, maxTokens: entry.maxTokens }
        : loadedSuite;
    events.step(`eval:${index}`);
    events.note(`suite ${suite.id}: ${models.length} models`);
    // Run ids name the trained weights, so the key changes exactly when a model or the suite does.
    const key = stepKey({
      step: 'eval',
      suite,
      models,
      judge: entry.judge,
      epochs: entry.epochs,
      limit: entry.limit,
    });
    // `worker:MODEL` is a model on this experiment's own worker, whose address a local worker only learns at start.
    const judge = entry.judge
      ? entry.judge.startsWith('worker:') && !entry.judge.startsWith('worker://')
        ? backendFor(entry.judge.slice('worker:'.length))
        : resolveBackend(entry.judge, options.env).backend
      : undefined;
    const backends = models.map((model) => ({
      name: model.name,
      backend: backendFor(model.model),
    }));
    let bar: TaskProgress | undefined;
    // No step marker here: runEval resumes from its own sample log and retries provider errors.
    const dir = stepDir(outDir, 'evals', suite.id, key);
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
      await Promise.all(
        backends.map(({ backend }) => (backend as { close?: () => Promise<void> }).close?.()),
      );
    }
    evals.push({ suite: suite.id, dir, models });
    events.done(
      `${result.total} samples: ${result.resumed} from the log, ${result.scored} scored now, ${result.unscored} unscored`,
      result.resumed === result.total,
    );
  }

  let probes: PipelineProbes | undefined;
  if (probeSets && readability) {
    const set = probeSets.dialogue;
    events.step('probe:dialogue');
    events.note(`${models.length} models in the MSM documents' format`);
    const key = stepKey({ step: 'probe', set, models });
    const step = await cachedStep(stepDir(outDir, 'probes', set.id, key), key, async () => {
      const outcomes: Record<string, ProbeOutcome[]> = {};
      for (const model of models) {
        const backend = backendFor(model.model);
        try {
          outcomes[model.name] = await scoreProbe(backend, set, { signal });
        } finally {
          await (backend as { close?: () => Promise<void> }).close?.();
        }
      }
      return outcomes;
    });
    probes = { readability, dialogue: { dir: step.dir, models, outcomes: step.value } };
    events.done(
      `${Object.values(step.value).reduce((sum, list) => sum + list.length, 0)} choices`,
      step.cached,
    );
  }

  return {
    config,
    corpora,
    world,
    aft,
    base: { model: baseModel, run: baseRun },
    runs,
    evals,
    probes,
  };
}

/**
 * The worker's backend under an id without the address: a local worker gets a new port on every
 * start, and the eval log's sample keys include the backend id, so a rerun would score everything
 * again. Run ids already name the trained weights uniquely.
 */
function workerBackend(address: string, model: string): Backend {
  const inner = new WorkerBackend({ address, model });
  return {
    id: `worker:${model}`,
    model: inner.model,
    limiterKey: inner.limiterKey,
    sample: (input, options) => inner.sample(input, options),
    scoreLogprobs: (items, options) => inner.scoreLogprobs(items, options),
    close: () => inner.close(),
  };
}
