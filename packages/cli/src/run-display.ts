import type { RunnerEvent } from '@midspec/runner';
import type { CliOutput } from './cli-io.js';
import { formatDuration, ProgressBar } from './progress-bar.js';

/**
 * Renders the runner's events: a numbered line per step (with "cached" when nothing was redone and
 * its time when it was), and a progress bar for each long task inside it.
 */
export class RunnerEventDisplay {
  private readonly bars = new Map<string, ProgressBar>();

  constructor(
    private readonly stream: CliOutput,
    private readonly now: () => number = Date.now,
  ) {}

  readonly handle = (event: RunnerEvent): void => {
    switch (event.type) {
      case 'worker-starting':
        this.stream.write(
          'starting a local worker (pass --worker HOST:PORT to use a running one)…\n',
        );
        break;
      case 'worker-started':
        if (event.local) this.stream.write(`local worker listening on ${event.address}\n`);
        break;
      case 'step-started':
        this.stream.write(`[${event.index}/${event.total}] ${event.label}\n`);
        break;
      case 'step-finished':
        this.stream.write(
          `      ${event.cached ? 'cached: ' : ''}${event.summary}${event.cached ? '' : ` (${formatDuration(event.seconds)})`}\n`,
        );
        break;
      case 'note':
        this.stream.write(`      ${event.text}\n`);
        break;
      case 'progress': {
        let bar = this.bars.get(event.task);
        if (!bar) {
          bar = new ProgressBar(this.stream, event.task, event.total, this.now);
          this.bars.set(event.task, bar);
        }
        if (event.done > 0 || Object.keys(event.fields).length > 0)
          bar.update(event.done, event.fields, event.total);
        break;
      }
      case 'progress-finished':
        this.bars.get(event.task)?.done(event.fields);
        this.bars.delete(event.task);
        break;
      case 'report-written':
        break;
    }
  };
}
