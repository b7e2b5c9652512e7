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
    summary:
      'A principle that never says why: no rationale, no explained value, and no sentence of ' +
      'explanation (because, so that, this protects…) in its text.',
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
  'undefined-variable': {
    severity: 'warning',
    summary:
      'A {placeholder} that a spec declaring `variables` does not declare (a spec that declares ' +
      'none, like most published specs, has its placeholders detected instead).',
  },
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
