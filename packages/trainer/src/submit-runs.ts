import { setTimeout as sleep } from 'node:timers/promises';
import {
  type DeepPartial,
  type GetCapabilitiesResponse,
  type Run,
  type RunSpec,
  type WorkerClient,
  WorkerError,
} from '@midspec/proto';
import { assertCapabilities } from './check-capabilities.js';
import { runIdempotencyKey } from './idempotency-key.js';
import type { PlannedDataset, PlannedRun, TrainingPlan } from './plan-experiment.js';
import { type UploadedDataset, type UploadProgress, uploadDataset } from './upload-dataset.js';

export interface SubmittedRun {
  planned: PlannedRun;
  run: Run;
  /** True when the worker already had this run (same idempotency key): nothing new was started. */
  alreadyExisted: boolean;
}

export interface SubmitOptions {
  signal?: AbortSignal;
  /** Attempts after a retryable failure (default 5); safe because every submission carries its key. */
  maxRetries?: number;
}

/**
 * Submits one run with an idempotency key (derived from the spec when not given). Retryable
 * failures are retried: the key makes a retry of a submission that did reach the worker return the
 * same run rather than a second one.
 */
export async function submitRun(
  client: WorkerClient,
  spec: DeepPartial<RunSpec>,
  options: SubmitOptions & { idempotencyKey?: string } = {},
): Promise<{ run: Run; alreadyExisted: boolean }> {
  const idempotencyKey = options.idempotencyKey ?? runIdempotencyKey(spec);
  const maxRetries = options.maxRetries ?? 5;
  for (let attempt = 0; ; attempt += 1) {
    try {
      const response = await client.submitRun(
        { spec, idempotencyKey },
        { signal: options.signal, timeoutMs: 60_000 },
      );
      if (!response.run)
        throw new WorkerError({
          method: 'SubmitRun',
          address: client.address,
          grpcCode: 13,
          message: 'the worker accepted the run but returned none',
        });
      return { run: response.run, alreadyExisted: response.alreadyExisted };
    } catch (error) {
      const retryable =
        WorkerError.isInstance(error) && error.isRetryable && !options.signal?.aborted;
      if (!retryable || attempt >= maxRetries) throw error;
      await sleep(Math.min(5000, 200 * 2 ** attempt), undefined, { signal: options.signal });
    }
  }
}

export interface SubmitExperimentOptions extends SubmitOptions {
  capabilities?: GetCapabilitiesResponse;
  onUploadProgress?: (dataset: PlannedDataset, progress: UploadProgress) => void;
  onUploaded?: (dataset: PlannedDataset, uploaded: UploadedDataset) => void;
  onSubmitted?: (submitted: SubmittedRun) => void;
}

/**
 * Ships a plan to a worker: refuses it before any upload when the worker lacks a capability the
 * runs need, uploads each dataset once (skipped when the worker holds it, resumed when interrupted),
 * then submits every training run with its idempotency key. Safe to call again after any crash: it
 * ends with the same runs, never duplicates.
 */
export async function submitExperiment(
  client: WorkerClient,
  plan: TrainingPlan,
  options: SubmitExperimentOptions = {},
): Promise<SubmittedRun[]> {
  const runs = plan.runs.filter((run) => run.trains);
  const capabilities =
    options.capabilities ?? (await client.getCapabilities({}, { signal: options.signal }));
  assertCapabilities(capabilities, runs, client.address);

  const used = new Set(
    runs.flatMap((run) =>
      run.spec.stages.flatMap((stage) => stage.data.map((source) => source.datasetId)),
    ),
  );
  for (const dataset of plan.datasets) {
    if (!dataset.path || !used.has(dataset.id)) continue;
    const uploaded = await uploadDataset(client, dataset.path, {
      ...(dataset.format && { format: dataset.format }),
      ...(dataset.validation && { validation: dataset.validation }),
      signal: options.signal,
      onProgress: (progress) => options.onUploadProgress?.(dataset, progress),
    });
    options.onUploaded?.(dataset, uploaded);
  }

  const submitted: SubmittedRun[] = [];
  for (const planned of runs) {
    const { run, alreadyExisted } = await submitRun(client, planned.spec, {
      idempotencyKey: planned.idempotencyKey,
      signal: options.signal,
      ...(options.maxRetries !== undefined && { maxRetries: options.maxRetries }),
    });
    const entry = { planned, run, alreadyExisted };
    submitted.push(entry);
    options.onSubmitted?.(entry);
  }
  return submitted;
}

/** The runs of a plan the worker already knows, matched by idempotency key (no submission). */
export async function findPlannedRuns(
  client: WorkerClient,
  plan: TrainingPlan,
  options: { signal?: AbortSignal } = {},
): Promise<Map<string, Run>> {
  const { runs } = await client.listRuns(
    { labels: { experiment: plan.experiment.name } },
    { signal: options.signal },
  );
  const byKey = new Map(runs.map((run) => [run.idempotencyKey, run]));
  const found = new Map<string, Run>();
  for (const planned of plan.runs) {
    const run = byKey.get(planned.idempotencyKey);
    if (run) found.set(planned.name, run);
  }
  return found;
}
