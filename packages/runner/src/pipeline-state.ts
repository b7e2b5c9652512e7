import type { Backend, Suite } from '@midspec/eval';
import type { WorkerClient } from '@midspec/proto';
import type { Spec } from '@midspec/spec';
import type { LoadedRunConfig, RunConfig } from './run-config.js';
import type { ProbeOutcome, ProbeSet } from './run-probes.js';
import type { ExperimentReport } from './run-report.js';
import type { TrainedRun } from './run-training.js';
import type { RunnerEvents } from './runner-events.js';

/** What every step of a run may use: the validated experiment, the worker, the events. */
export interface StepContext {
  loaded: LoadedRunConfig;
  outDir: string;
  client: WorkerClient;
  events: RunnerEvents;
  env: NodeJS.ProcessEnv | undefined;
  signal: AbortSignal | undefined;
  /** How an eval or a probe reaches a model ("tiny:llama", a folder, "run:ID"). */
  backendFor: (model: string) => Backend;
}

/** One evaluated model: a training arm at one seed (or the untrained baseline, once). */
export interface EvaluatedModel {
  /** The eval's arm name: `<arm>/seed-<n>`, or the arm alone when it has no training. */
  name: string;
  arm: string;
  seed: number | undefined;
  model: string;
}

export interface PipelineProbes {
  /** Per readability probe (cheaper, American): the base model's outcomes and hit rate. */
  readability: Array<{ id: string; rate: number; n: number; outcomes: ProbeOutcome[] }>;
  /** The dialogue probe, per evaluated model (by its eval name). */
  dialogue: { dir: string; models: EvaluatedModel[]; outcomes: Record<string, ProbeOutcome[]> };
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

/** What the steps have produced so far: each step reads what earlier steps wrote here. */
export interface PipelineState extends PipelineResult {
  specs: Map<string, { spec: Spec; text: string; variables?: Record<string, string> }>;
  /** Suite files, read in the first step so that a mistake in one shows before any training. */
  fileSuites: Map<string, Suite>;
  /** Each cached step's key, by step id: a later step's inputs may name an earlier step's key. */
  keys: Map<string, string>;
  /** The files of the datasets the run generates, by the name the arms use (`msm-<spec>`, `aft`, …). */
  generatedFiles: Record<string, string>;
  worldSuite: Suite | undefined;
  probeSets: { readability: ProbeSet[]; dialogue: ProbeSet } | undefined;
  readability: PipelineProbes['readability'] | undefined;
  /** The models the evals and probes score, known once the arms are trained. */
  models: EvaluatedModel[];
  /** Written by the last step. */
  report: { report: ExperimentReport; markdown: string } | undefined;
}

export function initialState(config: RunConfig): PipelineState {
  return {
    config,
    corpora: {},
    world: undefined,
    aft: undefined,
    base: { model: config.base.model, run: undefined },
    runs: [],
    evals: [],
    probes: undefined,
    specs: new Map(),
    fileSuites: new Map(),
    keys: new Map(),
    generatedFiles: {},
    worldSuite: undefined,
    probeSets: undefined,
    readability: undefined,
    models: [],
    report: undefined,
  };
}
