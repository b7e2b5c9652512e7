import {
  type Checkpoint,
  type Metrics,
  type RunError,
  type RunEvent,
  RunState,
  runStateToJSON,
} from '@midspec/proto';

export type RunStateName =
  | 'queued'
  | 'running'
  | 'resuming'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'unspecified';

export const FINAL_STATES: ReadonlySet<RunState> = new Set([
  RunState.RUN_STATE_SUCCEEDED,
  RunState.RUN_STATE_FAILED,
  RunState.RUN_STATE_CANCELLED,
]);

export function runStateName(state: RunState): RunStateName {
  const name = runStateToJSON(state).replace('RUN_STATE_', '').toLowerCase();
  return (name === 'unrecognized' ? 'unspecified' : name) as RunStateName;
}

interface EventBase {
  /** Position in the run's event log (heartbeats repeat the latest). */
  seq: number;
  runId: string;
  time: Date | undefined;
}

/** A run's event, as a discriminated union on `type` (noun-verb names). */
export type TrainerRunEvent = EventBase &
  (
    | { type: 'state-changed'; state: RunStateName; error: RunError | undefined; message: string }
    | { type: 'metrics-reported'; metrics: Metrics }
    | {
        type: 'stage-started';
        stageIndex: number;
        name: string;
        totalSteps: number;
        numTokens: number;
        packingEfficiency: number;
        initialLoss: number;
      }
    | { type: 'stage-finished'; stageIndex: number; finalLoss: number }
    | { type: 'checkpoint-saved'; checkpoint: Checkpoint }
    | { type: 'heartbeat-received' }
    | { type: 'log-written'; level: string; message: string }
  );

/** Maps a wire event to its typed form; undefined for an event kind this client does not know. */
export function toTrainerEvent(event: RunEvent): TrainerRunEvent | undefined {
  const base = { seq: Number(event.seq), runId: event.runId, time: event.time };
  const body = event.event;
  switch (body?.$case) {
    case 'stateChanged':
      return {
        ...base,
        type: 'state-changed',
        state: runStateName(body.stateChanged.state),
        error: body.stateChanged.error,
        message: body.stateChanged.message,
      };
    case 'metrics':
      return { ...base, type: 'metrics-reported', metrics: body.metrics };
    case 'stageStarted':
      return {
        ...base,
        type: 'stage-started',
        stageIndex: body.stageStarted.stageIndex,
        name: body.stageStarted.name,
        totalSteps: body.stageStarted.totalSteps,
        numTokens: Number(body.stageStarted.numTokens),
        packingEfficiency: body.stageStarted.packingEfficiency,
        initialLoss: body.stageStarted.initialLoss,
      };
    case 'stageFinished':
      return {
        ...base,
        type: 'stage-finished',
        stageIndex: body.stageFinished.stageIndex,
        finalLoss: body.stageFinished.finalLoss,
      };
    case 'checkpointSaved':
      return body.checkpointSaved.checkpoint
        ? { ...base, type: 'checkpoint-saved', checkpoint: body.checkpointSaved.checkpoint }
        : undefined;
    case 'heartbeat':
      return { ...base, type: 'heartbeat-received' };
    case 'log':
      return { ...base, type: 'log-written', level: body.log.level, message: body.log.message };
    default:
      return undefined;
  }
}
