import { resolve } from 'node:path';
import type { Backend } from '@midspec/eval';
import { createWorkerClient, type WorkerClient } from '@midspec/proto';
import { connectWorker } from '@midspec/trainer';
import { experimentSteps } from './experiment-steps.js';
import { type LocalWorker, startLocalWorker } from './local-worker.js';
import type { PipelineResult } from './pipeline-state.js';
import { type ExperimentSource, resolveExperiment } from './resolve-experiment.js';
import { runPipeline } from './run-pipeline.js';
import type { ExperimentReport } from './run-report.js';
import { type RunnerEventListener, RunnerEvents } from './runner-events.js';

export interface RunExperimentOptions {
  /** Where steps, evals and the report go (default `runs/<experiment name>` under the current folder). */
  outDir?: string;
  /**
   * A running worker's HOST:PORT. Without one, a local worker is started (see
   * `resolveWorkerCommand`) with its data under `<outDir>/worker`, and stopped at the end.
   */
  worker?: string;
  /** A Python with `midspec_worker`, for the local worker. */
  python?: string;
  onEvent?: RunnerEventListener;
  signal?: AbortSignal;
  /** API keys for the providers and judges (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** How an eval reaches a model ("tiny:llama", a folder, "run:ID"); default the worker's RPCs. */
  backendFor?: (model: string) => Backend;
}

export interface ExperimentOutcome {
  outDir: string;
  result: PipelineResult;
  report: ExperimentReport;
  /** The report as Markdown (also written to `<outDir>/report.md`). */
  markdown: string;
}

/**
 * Runs a whole experiment: specs → world → corpora → demonstrations → base → arms × seeds → evals →
 * report. Every step is cached by the content of its inputs, so running it again resumes where it
 * stopped and redoes only what changed. Progress goes to `onEvent`; nothing is printed.
 */
export async function runExperiment(
  experiment: ExperimentSource,
  options: RunExperimentOptions = {},
): Promise<ExperimentOutcome> {
  const loaded = await resolveExperiment(experiment);
  const { config } = loaded;
  const outDir = resolve(options.outDir ?? `runs/${config.name}`);
  const listener = options.onEvent ?? (() => {});
  const steps = experimentSteps(config);
  const events = new RunnerEvents(steps, listener);
  const { client, stop } = await openWorker(outDir, options, listener);
  try {
    const state = await runPipeline({
      loaded,
      outDir,
      client,
      address: client.address,
      events,
      steps,
      ...(options.env && { env: options.env }),
      ...(options.signal && { signal: options.signal }),
      ...(options.backendFor && { backendFor: options.backendFor }),
    });
    const path = resolve(outDir, 'report.md');
    listener({ type: 'report-written', path });
    const report = state.report as NonNullable<typeof state.report>;
    const result: PipelineResult = {
      config: state.config,
      corpora: state.corpora,
      world: state.world,
      aft: state.aft,
      base: state.base,
      runs: state.runs,
      evals: state.evals,
      probes: state.probes,
    };
    return { outDir, result, ...report };
  } finally {
    await stop();
  }
}

async function openWorker(
  outDir: string,
  options: RunExperimentOptions,
  listener: RunnerEventListener,
): Promise<{ client: WorkerClient; stop: () => Promise<void> }> {
  if (options.worker) {
    const { client } = await connectWorker(options.worker, {
      ...(options.signal && { signal: options.signal }),
    });
    listener({ type: 'worker-started', address: options.worker, local: false });
    return { client, stop: async () => client.close() };
  }
  listener({ type: 'worker-starting' });
  const local: LocalWorker = await startLocalWorker({
    dataDir: resolve(outDir, 'worker'),
    ...(options.python && { python: options.python }),
    ...(options.env && { env: options.env }),
    ...(options.signal && { signal: options.signal }),
  });
  listener({ type: 'worker-started', address: local.address, local: true });
  const client = createWorkerClient(local.address);
  return {
    client,
    stop: async () => {
      client.close();
      await local.stop();
    },
  };
}
