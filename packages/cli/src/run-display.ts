import type { CliOutput } from './cli-io.js';
import { formatDuration, ProgressBar } from './progress-bar.js';

/**
 * The pipeline's one progress display: a numbered line per step (with "cached" when nothing was
 * redone and its time when it was), and progress bars for the long steps inside it.
 */
export class PipelineDisplay {
  private index = 0;
  private stepStartedAt = 0;

  constructor(
    private readonly stream: CliOutput,
    private readonly totalSteps: number,
    private readonly now: () => number = Date.now,
  ) {}

  step(label: string): void {
    this.index += 1;
    this.stepStartedAt = this.now();
    this.stream.write(`[${this.index}/${this.totalSteps}] ${label}\n`);
  }

  /** Ends the current step with a short result. */
  done(result: string, cached = false): void {
    const seconds = (this.now() - this.stepStartedAt) / 1000;
    this.stream.write(
      `      ${cached ? 'cached: ' : ''}${result}${cached ? '' : ` (${formatDuration(seconds)})`}\n`,
    );
  }

  note(text: string): void {
    this.stream.write(`      ${text}\n`);
  }

  bar(label: string, total: number): ProgressBar {
    return new ProgressBar(this.stream, label, total, this.now);
  }
}
