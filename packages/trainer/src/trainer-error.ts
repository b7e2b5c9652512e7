import { hasErrorMarker, MidspecError, markError } from '@midspec/core';

/** One thing wrong with an input: where (a path such as `stages[1].data[0].weight`, a file line) and what. */
export interface Problem {
  /** Dotted/indexed path inside the document, e.g. `stages[0].hyperparameters.learningRate`; empty for the whole input. */
  path: string;
  message: string;
  /** The file the problem is in, when the input came from a file. */
  file?: string;
  /** 1-based line in that file, when known. */
  line?: number;
}

export type TrainerErrorCode =
  | 'trainer/invalid-curriculum'
  | 'trainer/invalid-experiment'
  | 'trainer/invalid-dataset'
  | 'trainer/unsupported'
  | 'trainer/worker-unreachable'
  | 'trainer/checksum-mismatch'
  | 'trainer/run-failed';

const TRAINER_ERROR_MARKER = 'midspec.trainer-error';

/**
 * Every failure of this package that is about the user's input or the worker's answers. It lists
 * every problem found (not only the first), each with its path and, for files, its line.
 */
export class TrainerError extends MidspecError {
  override readonly name = 'TrainerError';
  declare readonly code: TrainerErrorCode;
  readonly problems: Problem[];

  constructor(options: {
    code: TrainerErrorCode;
    summary: string;
    problems?: Problem[];
    cause?: unknown;
  }) {
    const problems = options.problems ?? [];
    const details = problems.map((problem) => `\n  ${formatProblem(problem)}`).join('');
    super({ code: options.code, message: `${options.summary}${details}`, cause: options.cause });
    this.problems = problems;
    markError(this, TRAINER_ERROR_MARKER);
  }

  static override isInstance(error: unknown): error is TrainerError {
    return hasErrorMarker(error, TRAINER_ERROR_MARKER);
  }
}

/** `file:line: path: message`, leaving out what is unknown. */
export function formatProblem(problem: Problem): string {
  const where = [problem.file, problem.line].filter((part) => part !== undefined).join(':');
  const prefix = [where, problem.path].filter((part) => part !== '' && part !== undefined);
  return prefix.length > 0 ? `${prefix.join(': ')}: ${problem.message}` : problem.message;
}
