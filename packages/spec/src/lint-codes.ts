export type LintSeverity = 'error' | 'warning';

/** Every code the linter reports, with its severity and what it means (the README lists these). */
export const LINT_CODES = {
  file: { severity: 'error', summary: 'The file cannot be read, is binary, or is too large.' },
  syntax: { severity: 'error', summary: 'YAML, JSON or front-matter syntax error.' },
  schema: { severity: 'error', summary: 'The document does not match the spec schema.' },
  'no-principles': {
    severity: 'error',
    summary: 'A Markdown file with no recognizable principles.',
  },
  'duplicate-id': {
    severity: 'error',
    summary: 'Two principles, values, entities or principals share an id.',
  },
  'empty-statement': { severity: 'error', summary: 'A principle whose statement is empty.' },
  'undefined-variable': {
    severity: 'error',
    summary: 'A {placeholder} that is not declared under `variables`.',
  },
  'unknown-value': {
    severity: 'error',
    summary: 'A principle serves a value that is not defined.',
  },
  'priority-unresolved': {
    severity: 'error',
    summary:
      'The priority order does not resolve: a cycle, a reference to an unknown principle, or an ' +
      'authority level that is not declared.',
  },
  'missing-rationale': {
    severity: 'warning',
    summary: 'A principle with no rationale and no explained value behind it.',
  },
  'value-unexplained': { severity: 'warning', summary: 'A value with no explanation.' },
  'vague-guidance': {
    severity: 'warning',
    summary: 'A principle made of vague phrases with nothing specific to act on.',
  },
  'unresolved-conflict': {
    severity: 'warning',
    summary: 'Two principles that can conflict with no priority between them.',
  },
  'no-examples': { severity: 'warning', summary: 'A principle with no examples.' },
  'unused-variable': { severity: 'warning', summary: 'A declared variable that is never used.' },
  'unused-value': { severity: 'warning', summary: 'A value that no principle serves.' },
} as const satisfies Record<string, { severity: LintSeverity; summary: string }>;

export type LintCode = keyof typeof LINT_CODES;

export interface LintDiagnostic {
  severity: LintSeverity;
  code: LintCode;
  message: string;
  path: (string | number)[];
  line?: number;
  column?: number;
}
