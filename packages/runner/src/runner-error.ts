import { hasErrorMarker, MidspecError, markError } from '@midspec/core';

export type RunnerErrorCode =
  | 'runner/unreadable'
  | 'runner/invalid-experiment'
  | 'runner/worker-not-found'
  | 'runner/worker-start'
  | 'runner/run-failed';

const RUNNER_ERROR_MARKER = 'midspec.runner-error';

/** Every failure of the runner itself: an experiment it refuses, a worker it cannot start, a run that failed. */
export class RunnerError extends MidspecError {
  override readonly name = 'RunnerError';
  declare readonly code: RunnerErrorCode;

  constructor(options: { code: RunnerErrorCode; message: string; cause?: unknown }) {
    super(options);
    markError(this, RUNNER_ERROR_MARKER);
  }

  static override isInstance(error: unknown): error is RunnerError {
    return hasErrorMarker(error, RUNNER_ERROR_MARKER);
  }
}
