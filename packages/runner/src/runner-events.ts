/**
 * What an experiment run reports while it runs. The runner prints nothing: a caller renders these
 * (the CLI as numbered lines and progress bars, a notebook as it likes, a test by collecting them).
 */
export type RunnerEvent =
  | { type: 'worker-starting' }
  | { type: 'worker-started'; address: string; local: boolean }
  | {
      type: 'step-started';
      /** The step's id from `experimentSteps` (e.g. `corpus:msm-america`). */
      step: string;
      label: string;
      /** 1-based position and count, for "[3/9]". */
      index: number;
      total: number;
    }
  | {
      type: 'step-finished';
      step: string;
      summary: string;
      /** Nothing was redone: a finished step with the same inputs was found. */
      cached: boolean;
      seconds: number;
    }
  | { type: 'note'; step: string; text: string }
  | {
      /** A long task inside a step (a corpus stage, a training stage, an eval's samples). */
      type: 'progress';
      step: string;
      task: string;
      done: number;
      total: number;
      fields: Record<string, string>;
    }
  | { type: 'progress-finished'; step: string; task: string; fields: Record<string, string> }
  | { type: 'report-written'; path: string };

export type RunnerEventListener = (event: RunnerEvent) => void;

/** A long task's progress handle, as the pipeline's steps use it. */
export interface TaskProgress {
  update(done: number, fields?: Record<string, string>, total?: number): void;
  done(fields?: Record<string, string>): void;
}

/** Emits the events of one run, numbering steps from the one step list. */
export class RunnerEvents {
  private current = '';
  private startedAt = 0;

  constructor(
    private readonly steps: ReadonlyArray<{ id: string; label: string }>,
    private readonly listener: RunnerEventListener,
    private readonly now: () => number = Date.now,
  ) {}

  emit(event: RunnerEvent): void {
    this.listener(event);
  }

  step(id: string): void {
    const index = this.steps.findIndex((step) => step.id === id);
    if (index < 0) throw new Error(`internal: step ${id} is not in the experiment's step list`);
    this.current = id;
    this.startedAt = this.now();
    this.listener({
      type: 'step-started',
      step: id,
      label: (this.steps[index] as { label: string }).label,
      index: index + 1,
      total: this.steps.length,
    });
  }

  done(summary: string, cached = false): void {
    this.listener({
      type: 'step-finished',
      step: this.current,
      summary,
      cached,
      seconds: (this.now() - this.startedAt) / 1000,
    });
  }

  note(text: string): void {
    this.listener({ type: 'note', step: this.current, text });
  }

  task(task: string, total: number): TaskProgress {
    const step = this.current;
    let last = total;
    this.listener({ type: 'progress', step, task, done: 0, total, fields: {} });
    return {
      update: (done, fields = {}, newTotal) => {
        last = newTotal ?? last;
        this.listener({ type: 'progress', step, task, done, total: last, fields });
      },
      done: (fields = {}) => this.listener({ type: 'progress-finished', step, task, fields }),
    };
  }
}
