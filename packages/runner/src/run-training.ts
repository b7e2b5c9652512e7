import { RunState, type WorkerClient } from '@midspec/proto';
import {
  type Experiment,
  listCheckpoints,
  planTrainingExperiment,
  submitExperiment,
  type TrainingPlan,
  waitForRun,
} from '@midspec/trainer';
import { RunnerError } from './runner-error.js';
import type { RunnerEvents, TaskProgress } from './runner-events.js';

/** What the pipeline keeps of a finished training run. */
export interface TrainedRun {
  name: string;
  arm: string;
  seed: number;
  runId: string;
  idempotencyKey: string;
  /** The final checkpoint's merged Hugging Face folder on the worker, when it wrote one. */
  finalPath: string | undefined;
  /** Loss before and after each stage. */
  stages: Array<{ name: string; initialLoss: number; finalLoss: number; steps: number }>;
  alreadyExisted: boolean;
}

/**
 * Plans a validated experiment (its data files hashed and checked, nothing validated again),
 * uploads, submits (idempotently: a rerun finds the runs already there) and follows every training
 * run to its end, reporting each stage's progress. A run that does not succeed stops the pipeline
 * with its name and error.
 */
export async function trainExperiment(
  client: WorkerClient,
  experiment: Experiment,
  events: RunnerEvents,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<TrainedRun[]> {
  const plan = await planTrainingExperiment(experiment, {
    ...(options.signal && { signal: options.signal }),
  });
  await cancelSuperseded(client, plan, events, options);
  const submitted = await submitExperiment(client, plan, { signal: options.signal });
  const trained: TrainedRun[] = [];
  for (const { planned, run, alreadyExisted } of submitted) {
    const stages: TrainedRun['stages'] = [];
    let bar: TaskProgress | undefined;
    let stepsDone = 0;
    const finished = await waitForRun(client, run.id, {
      signal: options.signal,
      onEvent: (event) => {
        if (event.type === 'stage-started') {
          bar?.done();
          stepsDone = 0;
          stages.push({
            name: event.name,
            initialLoss: event.initialLoss,
            finalLoss: Number.NaN,
            steps: event.totalSteps,
          });
          bar = events.task(`  ${planned.name} ${event.name}`, event.totalSteps);
        } else if (event.type === 'metrics-reported') {
          stepsDone = event.metrics.step;
          bar?.update(stepsDone, { loss: event.metrics.loss.toFixed(3) });
        } else if (event.type === 'stage-finished') {
          const stage = stages[event.stageIndex] ?? stages[stages.length - 1];
          if (stage) stage.finalLoss = event.finalLoss;
          bar?.done({ loss: event.finalLoss.toFixed(3) });
        }
      },
    });
    bar?.done();
    if (finished.state !== RunState.RUN_STATE_SUCCEEDED) {
      throw new RunnerError({
        code: 'runner/run-failed',
        message: `training run ${planned.name} (${run.id}) did not succeed: ${finished.error?.message ?? `state ${finished.state}`}`,
      });
    }
    const checkpoints = await listCheckpoints(client, run.id, { signal: options.signal });
    const final = checkpoints.find((checkpoint) => checkpoint.id === 'final') ?? checkpoints.at(-1);
    trained.push({
      name: planned.name,
      arm: planned.arm,
      seed: planned.seed,
      runId: run.id,
      idempotencyKey: planned.idempotencyKey,
      finalPath: final?.localPath || undefined,
      stages,
      alreadyExisted,
    });
  }
  return trained;
}

/**
 * Cancels this experiment's queued or running runs that the plan no longer contains: after an edit
 * (or a crash mid-submission of an older version) they would otherwise hold the worker's one
 * training slot ahead of the runs the current file asks for.
 */
async function cancelSuperseded(
  client: WorkerClient,
  plan: TrainingPlan,
  events: RunnerEvents,
  options: { signal?: AbortSignal | undefined },
): Promise<void> {
  const wanted = new Set(plan.runs.map((run) => run.idempotencyKey));
  const { runs } = await client.listRuns(
    {
      labels: { experiment: plan.experiment.name },
      states: [RunState.RUN_STATE_QUEUED, RunState.RUN_STATE_RUNNING],
    },
    { signal: options.signal },
  );
  const stale = runs.filter((run) => !wanted.has(run.idempotencyKey));
  for (const run of stale) await client.cancelRun({ runId: run.id }, { signal: options.signal });
  if (stale.length > 0)
    events.note(
      `cancelled ${stale.length} unfinished runs of an earlier version of ${plan.experiment.name}`,
    );
}
