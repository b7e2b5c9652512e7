import { hasErrorMarker, MidspecError, markError } from '@midspec/core';

/** Where in a document a problem is; `path` is the property path into the spec (`principles.2.id`). */
export interface SpecIssue {
  path: (string | number)[];
  message: string;
  line?: number;
  column?: number;
}

export type SpecErrorCode =
  | 'spec/file-unreadable'
  | 'spec/file-refused'
  | 'spec/syntax'
  | 'spec/invalid'
  | 'spec/no-principles'
  | 'spec/variable-undefined'
  | 'spec/lint-failed';

/** A spec that cannot be read, parsed, validated or rendered. Lists every problem, not only the first. */
const SPEC_ERROR_MARKER = 'midspec.spec-error';

export class SpecError extends MidspecError {
  override readonly name = 'SpecError';
  readonly issues: SpecIssue[];
  readonly file: string | undefined;

  constructor(options: {
    code: SpecErrorCode;
    message: string;
    issues?: SpecIssue[];
    file?: string;
    cause?: unknown;
  }) {
    const issues = options.issues ?? [];
    super({
      code: options.code,
      message: formatMessage(options.message, issues, options.file),
      cause: options.cause,
    });
    this.issues = issues;
    this.file = options.file;
    markError(this, SPEC_ERROR_MARKER);
  }

  static override isInstance(error: unknown): error is SpecError {
    return hasErrorMarker(error, SPEC_ERROR_MARKER);
  }
}

function formatMessage(message: string, issues: SpecIssue[], file: string | undefined): string {
  if (issues.length === 0) return message;
  const lines = issues.map((issue) => `  ${formatIssueLocation(issue, file)}${issue.message}`);
  return `${message}\n${lines.join('\n')}`;
}

function formatIssueLocation(issue: SpecIssue, file: string | undefined): string {
  const where = issue.line === undefined ? '' : `${issue.line}:${issue.column ?? 1}`;
  const prefix = [file, where].filter(Boolean).join(':');
  const path = issue.path.length > 0 ? `${formatPath(issue.path)}: ` : '';
  return `${prefix ? `${prefix}: ` : ''}${path}`;
}

/** `['principles', 2, 'id']` → `principles[2].id` */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? key : `.${key}`;
  }
  return out;
}
