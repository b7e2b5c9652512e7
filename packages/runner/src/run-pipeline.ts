import { type Backend, WorkerBackend } from '@midspec/eval';
import type { WorkerClient } from '@midspec/proto';
import { type ExperimentStep, experimentSteps } from './experiment-steps.js';
import { initialState, type PipelineState } from './pipeline-state.js';
import { stepDir, stepKey } from './run-cache.js';
import type { LoadedRunConfig } from './run-config.js';
import type { RunnerEvents } from './runner-events.js';

export interface RunPipelineOptions {
  loaded: LoadedRunConfig;
  outDir: string;
  client: WorkerClient;
  /** HOST:PORT of the same worker, for the eval backends. */
  address: string;
  events: RunnerEvents;
  /** The step list (default `experimentSteps(loaded.config)`). */
  steps?: ExperimentStep[];
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** How an eval reaches a model ("tiny:llama", a folder, "run:ID"); default the worker's RPCs. */
  backendFor?: (model: string) => Backend;
}

/**
 * Runs the experiment's step list in order. Each step's cache key is the hash of the inputs its
 * `cache` entry names, computed here from what the earlier steps produced, so no step builds a key
 * of its own; a step whose key has a finished result redoes nothing.
 */
export async function runPipeline(options: RunPipelineOptions): Promise<PipelineState> {
  const { loaded, outDir, events } = options;
  const state = initialState(loaded.config);
  const context = {
    loaded,
    outDir,
    client: options.client,
    events,
    env: options.env,
    signal: options.signal,
    backendFor: options.backendFor ?? ((model: string) => workerBackend(options.address, model)),
  };
  for (const step of options.steps ?? experimentSteps(loaded.config)) {
    options.signal?.throwIfAborted();
    events.step(step.id);
    let at: { dir: string; key: string } | undefined;
    if (step.cache) {
      const { folder, name, inputs } = step.cache(state);
      const key = stepKey(inputs);
      state.keys.set(step.id, key);
      at = { dir: stepDir(outDir, folder, name, key), key };
    }
    const { summary, cached } = await step.run(state, context, at);
    events.done(summary, cached);
  }
  return state;
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
