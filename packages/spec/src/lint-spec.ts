import { LINT_CODES, type LintCode, type LintDiagnostic } from './lint-codes.js';
import { type LoadSpecOptions, loadSpec } from './load-spec.js';
import { scanPlaceholders } from './placeholder-scan.js';
import { buildPriorityOrder } from './priority-order.js';
import { isExplained } from './rationale-prose.js';
import { type Locate, locateNearest, positionAt } from './source-position.js';
import { formatPath, SpecError } from './spec-error.js';
import type { Principle, Spec } from './spec-schema.js';
import { findPlaceholders } from './template-variables.js';
import { findVagueGuidance } from './vague-guidance.js';

export interface LintOptions {
  locate?: Locate;
  /** The text the spec was read from: undeclared placeholders are reported at their place in it. */
  source?: string;
  /**
   * The spec's placeholders were detected in text with no front matter to declare them (a published
   * spec's `{model_name}`): they are variables, not mistakes, so undefined-variable is not reported.
   */
  placeholdersDetected?: boolean;
}

/** Checks a valid spec for semantic errors and for the method's warnings; never throws. */
export function lintSpec(spec: Spec, options: LintOptions = {}): LintDiagnostic[] {
  const locate = options.locate ?? (() => undefined);
  const out: LintDiagnostic[] = [];
  const report = (
    code: LintCode,
    path: (string | number)[],
    message: string,
    at?: { line: number; column: number },
  ) => {
    out.push({
      severity: LINT_CODES[code].severity,
      code,
      message,
      path,
      ...(at ?? locateNearest(locate, path)),
    });
  };

  checkDuplicates(spec, report);
  const principleIds = new Set(spec.principles.map((principle) => principle.id));
  const values = new Map(spec.values.map((value) => [value.id, value]));
  const levels = spec.preamble.authorityLevels;

  spec.principles.forEach((principle, index) => {
    const path = ['principles', index];
    if (principle.statement.trim() === '') {
      report(
        'empty-statement',
        [...path, 'statement'],
        `principle ${principle.id} has an empty statement`,
      );
    }
    principle.values.forEach((valueId, valueIndex) => {
      if (!values.has(valueId)) {
        report(
          'unknown-value',
          [...path, 'values', valueIndex],
          `principle ${principle.id} serves undefined value "${valueId}"`,
        );
      }
    });
    for (const field of ['overrides', 'conflictsWith'] as const) {
      principle[field].forEach((target, targetIndex) => {
        if (!principleIds.has(target)) {
          report(
            'priority-unresolved',
            [...path, field, targetIndex],
            `principle ${principle.id} refers to unknown principle "${target}" in ${field}`,
          );
        }
      });
    }
    if (principle.authority !== undefined && !levels.includes(principle.authority)) {
      report(
        'priority-unresolved',
        [...path, 'authority'],
        `authority "${principle.authority}" of ${principle.id} is not one of preamble.authorityLevels (${levels.join(', ') || 'none declared'})`,
      );
    }
    if (!isExplained(principle, spec)) {
      report(
        'missing-rationale',
        path,
        `principle ${principle.id} does not say which value it serves or why; specs that explain their values generalize better`,
      );
    }
    const vague = findVagueGuidance(principle);
    if (vague) {
      const phrases = vague.phrases.length > 0 ? ` ("${vague.phrases.join('", "')}")` : '';
      report(
        'vague-guidance',
        [...path, 'statement'],
        `principle ${principle.id} is vague${phrases} with nothing specific: add a concrete condition, sub-rules or examples`,
      );
    }
    if (principle.examples.length === 0) {
      report(
        'no-examples',
        path,
        `principle ${principle.id} has no examples of good or bad behaviour`,
      );
    }
  });

  const order = buildPriorityOrder(spec);
  if (order.cycle) {
    const start = spec.principles.findIndex((principle) => principle.id === order.cycle?.[0]);
    report(
      'priority-unresolved',
      ['principles', Math.max(start, 0)],
      `the priority order does not resolve: ${order.cycle.join(' > ')}`,
    );
  } else {
    checkConflicts(spec, order.precedes, report);
  }

  spec.values.forEach((value, index) => {
    if (value.explanation.trim() === '') {
      report('value-unexplained', ['values', index], `value ${value.id} has no explanation`);
    }
    if (!spec.principles.some((principle) => principle.values.includes(value.id))) {
      report('unused-value', ['values', index], `no principle serves value ${value.id}`);
    }
  });

  // A Markdown spec with no front matter (as published specs are) has its placeholders detected,
  // not declared: only a spec that can declare them is told about the ones it forgot.
  const declaresVariables = options.placeholdersDetected !== true;
  const used = new Set<string>();
  for (const use of findPlaceholders(spec)) {
    if (declaresVariables && !(use.name in spec.variables) && !used.has(use.name)) {
      report(
        'undefined-variable',
        use.path,
        `undefined template variable {${use.name}}; declare it under variables`,
        options.source === undefined ? undefined : placeholderPosition(options.source, use.name),
      );
    }
    used.add(use.name);
  }
  for (const name of Object.keys(spec.variables)) {
    if (!used.has(name))
      report(
        'unused-variable',
        ['variables', name],
        `variable {${name}} is declared but never used`,
      );
  }
  return out.sort(
    (a, b) =>
      (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER) ||
      (a.column ?? 0) - (b.column ?? 0),
  );
}

type Report = (code: LintCode, path: (string | number)[], message: string) => void;

/** Where `{name}` is first written in the source as a placeholder (not in code or math). */
function placeholderPosition(
  source: string,
  name: string,
): { line: number; column: number } | undefined {
  const found = scanPlaceholders(source).find((match) => match.name === name);
  return found === undefined ? undefined : positionAt(source, found.index);
}

function checkDuplicates(spec: Spec, report: Report): void {
  const lists: [(string | number)[], { id: string }[], string][] = [
    [['principles'], spec.principles, 'principle'],
    [['values'], spec.values, 'value'],
    [['entities'], spec.entities, 'entity'],
    [['preamble', 'principals'], spec.preamble.principals, 'principal'],
  ];
  for (const [path, items, noun] of lists) {
    const seen = new Map<string, number>();
    items.forEach((item, index) => {
      const first = seen.get(item.id);
      if (first === undefined) seen.set(item.id, index);
      else
        report(
          'duplicate-id',
          [...path, index, 'id'],
          `duplicate ${noun} id "${item.id}" (first used at ${path.join('.')}[${first}])`,
        );
    });
  }
}

/**
 * Two principles can conflict when one lists the other in `conflictsWith`, or when they share a
 * domain and serve different values. Either way one must take precedence over the other.
 */
function checkConflicts(
  spec: Spec,
  precedes: (a: string, b: string) => boolean,
  report: Report,
): void {
  const { principles } = spec;
  const reported = new Set<string>();
  principles.forEach((a, indexA) => {
    principles.forEach((b, indexB) => {
      if (indexB <= indexA || a.id === b.id) return;
      const key = `${a.id}\u0000${b.id}`;
      const reason = conflictReason(a, b);
      if (reported.has(key) || reason === undefined) return;
      if (precedes(a.id, b.id) || precedes(b.id, a.id)) return;
      reported.add(key);
      report(
        'unresolved-conflict',
        ['principles', indexB],
        `principles ${a.id} and ${b.id} can conflict (${reason}) but neither takes precedence; give them priorities or an overrides entry`,
      );
    });
  });
}

function conflictReason(a: Principle, b: Principle): string | undefined {
  if (a.conflictsWith.includes(b.id) || b.conflictsWith.includes(a.id))
    return 'declared in conflictsWith';
  const domain = a.domains.find((item) => b.domains.includes(item));
  if (domain === undefined || a.values.length === 0 || b.values.length === 0) return undefined;
  const same =
    a.values.length === b.values.length && a.values.every((value) => b.values.includes(value));
  return same ? undefined : `both apply in domain "${domain}" and serve different values`;
}

export interface LintFileResult {
  file: string;
  diagnostics: LintDiagnostic[];
  spec?: Spec;
}

const ERROR_CODES: Record<string, LintCode> = {
  'spec/file-unreadable': 'file',
  'spec/file-refused': 'file',
  'spec/syntax': 'syntax',
  'spec/invalid': 'schema',
  'spec/no-principles': 'no-principles',
};

/** Loads and lints a file; loading problems become diagnostics too, so callers see one list. */
export async function lintSpecFile(
  file: string,
  options: LoadSpecOptions = {},
): Promise<LintFileResult> {
  try {
    const loaded = await loadSpec(file, options);
    return {
      file,
      spec: loaded.spec,
      diagnostics: lintSpec(loaded.spec, {
        locate: loaded.locate,
        ...(loaded.source === undefined ? {} : { source: loaded.source }),
        placeholdersDetected: loaded.placeholdersDetected === true,
      }),
    };
  } catch (error) {
    if (!SpecError.isInstance(error)) throw error;
    const code = ERROR_CODES[error.code] ?? 'schema';
    const issues = (error as Partial<SpecError>).issues ?? [];
    const diagnostics: LintDiagnostic[] =
      issues.length > 0
        ? issues.map((issue) => ({
            severity: 'error',
            code,
            ...issue,
            message:
              issue.path.length > 0 ? `${formatPath(issue.path)}: ${issue.message}` : issue.message,
          }))
        : [{ severity: 'error', code, message: error.message, path: [], line: 1, column: 1 }];
    return { file, diagnostics };
  }
}

/** Throws a SpecError listing the lint errors (not warnings), if there are any. */
export function assertNoLintErrors(
  spec: Spec,
  options: LintOptions & { file?: string } = {},
): void {
  const errors = lintSpec(spec, options).filter((diagnostic) => diagnostic.severity === 'error');
  if (errors.length === 0) return;
  throw new SpecError({
    code: 'spec/lint-failed',
    message: `spec ${spec.id} has ${errors.length} error${errors.length === 1 ? '' : 's'} (see \`midspec spec lint\`)`,
    issues: errors.map(({ path, message, line, column }) => ({ path, message, line, column })),
    file: options.file,
  });
}
