import type { TrainerRunEvent } from '@midspec/trainer';
import type { ProgressStream } from './progress-bar.js';
import { formatDuration } from './progress-bar.js';

interface RunLine {
  name: string;
  state: string;
  stage: string;
  step: number;
  totalSteps: number;
  loss: number | undefined;
}

/**
 * Progress of many runs at once: on a terminal, one line per run redrawn in place; elsewhere (CI), a
 * plain line whenever a run changes state or starts or finishes a stage.
 */
export class ExperimentProgress {
  private readonly lines = new Map<string, RunLine>();
  private drawn = 0;
  private readonly startedAt = Date.now();

  constructor(
    private readonly stream: ProgressStream,
    names: { name: string; state: string }[],
  ) {
    for (const { name, state } of names)
      this.lines.set(name, { name, state, stage: '', step: 0, totalSteps: 0, loss: undefined });
    this.draw();
  }

  handle(name: string, event: TrainerRunEvent): void {
    const line = this.lines.get(name);
    if (!line) return;
    let notable = false;
    switch (event.type) {
      case 'state-changed':
        line.state = event.state;
        notable = true;
        break;
      case 'stage-started':
        line.stage = event.name;
        line.step = 0;
        line.totalSteps = event.totalSteps;
        notable = true;
        break;
      case 'metrics-reported':
        line.step = event.metrics.step;
        line.totalSteps = event.metrics.totalSteps;
        line.loss = event.metrics.loss;
        break;
      case 'stage-finished':
        line.loss = event.finalLoss;
        notable = true;
        break;
      default:
        return;
    }
    if (this.stream.isTTY) this.draw();
    else if (notable) this.stream.write(`${this.format(line)}\n`);
  }

  /** Leaves the final table on screen. */
  close(): void {
    if (!this.stream.isTTY)
      for (const line of this.lines.values()) this.stream.write(`${this.format(line)}\n`);
  }

  private draw(): void {
    if (!this.stream.isTTY) return;
    const text = [...this.lines.values()].map((line) => `\x1b[2K${this.format(line)}`);
    const up = this.drawn > 0 ? `\x1b[${this.drawn}A\r` : '';
    this.stream.write(`${up}${text.join('\n')}\n`);
    this.drawn = text.length;
  }

  private format(line: RunLine): string {
    const width = Math.max(...[...this.lines.keys()].map((name) => name.length));
    const ratio = line.totalSteps > 0 ? line.step / line.totalSteps : 0;
    const bar = `[${'#'.repeat(Math.round(ratio * 20)).padEnd(20, '-')}]`;
    const loss = line.loss === undefined ? '' : `loss ${line.loss.toFixed(4)}`;
    const stage = line.stage ? `${line.stage} ${line.step}/${line.totalSteps}` : '';
    const elapsed = formatDuration((Date.now() - this.startedAt) / 1000);
    return `${line.name.padEnd(width)}  ${line.state.padEnd(13)} ${bar} ${stage.padEnd(16)} ${loss.padEnd(12)} ${elapsed}`.trimEnd();
  }
}
