import { hasErrorMarker, MidspecError, markError } from '@midspec/core';

/** One problem found in user input, with where it is. */
export interface EvaluationIssue {
  /** Dotted path into the input, e.g. "items.3.options.0.text". */
  path: string;
  message: string;
  /** 1-based line in the source file, when known. */
  line?: number;
}

export interface EvaluationErrorOptions {
  code: string;
  message: string;
  issues?: EvaluationIssue[];
  cause?: unknown;
}

const EVALUATION_ERROR_MARKER = 'midspec.evaluation-error';

/** Every error the eval package throws. Validation errors carry every problem in `issues`. */
export class EvaluationError extends MidspecError {
  override readonly name = 'EvaluationError';
  readonly issues: EvaluationIssue[];

  constructor({ code, message, issues = [], cause }: EvaluationErrorOptions) {
    super({ code, message, cause });
    this.issues = issues;
    markError(this, EVALUATION_ERROR_MARKER);
  }

  static override isInstance(error: unknown): error is EvaluationError {
    return hasErrorMarker(error, EVALUATION_ERROR_MARKER);
  }
}

/** Formats issues one per line: "file:line: path: message". */
export function formatIssues(issues: EvaluationIssue[], file?: string): string {
  return issues
    .map((issue) => {
      const where = [file, issue.line].filter((part) => part !== undefined).join(':');
      return `  ${where ? `${where}: ` : ''}${issue.path || '(root)'}: ${issue.message}`;
    })
    .join('\n');
}
