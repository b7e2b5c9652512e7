import { type Checkpoint, type RunEvent, RunState, runStateToJSON } from '@midspec/proto';
import { ProgressBar, type ProgressStream } from './progress-bar.js';

export interface StageSummary {
  index: number;
  name: string;
  initialLoss: number | undefined;
  finalLoss: number | undefined;
  steps: number;
  tokensPerSecond: number | undefined;
  packingEfficiency: number | undefined;
}

/** Turns a run's events into progress bars (one per stage) and a summary of losses and checkpoints. */
export class RunEventsDisplay {
  readonly stages: StageSummary[] = [];
  readonly checkpoints: Checkpoint[] = [];
  finalState: RunState | undefined;
  errorMessage: string | undefined;
  private bar: ProgressBar | undefined;

  constructor(
    private readonly stream: ProgressStream,
    private readonly log: (line: string) => void,
  ) {}

  handle(event: RunEvent): void {
    const body = event.event;
    if (!body) return;
    switch (body.$case) {
      case 'stageStarted': {
        const started = body.stageStarted;
        this.bar?.done();
        this.stages[started.stageIndex] = {
          index: started.stageIndex,
          name: started.name,
          initialLoss: started.initialLoss,
          finalLoss: undefined,
          steps: 0,
          tokensPerSecond: undefined,
          packingEfficiency: started.packingEfficiency,
        };
        this.log(
          `stage ${started.stageIndex + 1} ${started.name}: ${started.totalSteps} steps, ${started.numTokens} tokens, ` +
            `packing ${(started.packingEfficiency * 100).toFixed(1)}%, initial loss ${started.initialLoss.toFixed(4)}`,
        );
        this.bar = new ProgressBar(this.stream, started.name, started.totalSteps);
        break;
      }
      case 'metrics': {
        const metrics = body.metrics;
        const stage = this.stages[metrics.stageIndex];
        if (stage) {
          stage.finalLoss = metrics.loss;
          stage.steps = metrics.step;
          stage.tokensPerSecond = metrics.tokensPerSecond;
        }
        this.bar?.update(
          metrics.step,
          { loss: metrics.loss.toFixed(4), 'tok/s': formatRate(metrics.tokensPerSecond) },
          metrics.totalSteps,
        );
        break;
      }
      case 'stageFinished': {
        const stage = this.stages[body.stageFinished.stageIndex];
        if (stage) stage.finalLoss = body.stageFinished.finalLoss;
        this.bar?.done();
        this.bar = undefined;
        break;
      }
      case 'checkpointSaved':
        if (body.checkpointSaved.checkpoint) this.checkpoints.push(body.checkpointSaved.checkpoint);
        break;
      case 'stateChanged': {
        const changed = body.stateChanged;
        this.finalState = changed.state;
        if (changed.error) this.errorMessage = changed.error.message;
        if (changed.state !== RunState.RUN_STATE_RUNNING) {
          this.bar?.done();
          this.bar = undefined;
          this.log(
            `run ${event.runId}: ${stateName(changed.state)}${changed.message && changed.message !== stateName(changed.state) ? ` (${changed.message})` : ''}`,
          );
        }
        break;
      }
      case 'log':
        if (body.log.level === 'warning' || body.log.level === 'error')
          this.log(`${body.log.level}: ${body.log.message}`);
        break;
      case 'heartbeat':
        break;
    }
  }

  /** Closes any open bar. */
  close(): void {
    this.bar?.done();
    this.bar = undefined;
  }
}

export function stateName(state: RunState): string {
  return runStateToJSON(state).replace('RUN_STATE_', '').toLowerCase();
}

export function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(1)}M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}k`;
  return perSecond.toFixed(0);
}
