import type { LintDiagnostic } from './lint-codes.js';
import { isExplained } from './rationale-prose.js';
import type { Spec } from './spec-schema.js';

/** The per-spec figures `midspec spec lint` prints: what the method's arms differ in. */
export interface LintSummary {
  principles: number;
  subRules: number;
  /** Good and bad examples (an OpenAI-style comparison gives one per alternative answer). */
  examples: number;
  /** Principles that say why (rationale, explained value, or explanation in their prose). */
  explained: number;
  /** explained / principles, 0 when there are none. */
  explainedShare: number;
  withExamples: number;
  withExamplesShare: number;
  /** `vague-guidance` warnings. */
  vague: number;
  /** `unresolved-conflict` warnings. */
  unresolvedConflicts: number;
}

export function summarizeLint(spec: Spec, diagnostics: readonly LintDiagnostic[]): LintSummary {
  const principles = spec.principles.length;
  const share = (count: number) => (principles === 0 ? 0 : count / principles);
  const explained = spec.principles.filter((principle) => isExplained(principle, spec)).length;
  const withExamples = spec.principles.filter((principle) => principle.examples.length > 0).length;
  const count = (code: LintDiagnostic['code']) =>
    diagnostics.filter((diagnostic) => diagnostic.code === code).length;
  return {
    principles,
    subRules: spec.principles.reduce((sum, principle) => sum + principle.subRules.length, 0),
    examples: spec.principles.reduce((sum, principle) => sum + principle.examples.length, 0),
    explained,
    explainedShare: share(explained),
    withExamples,
    withExamplesShare: share(withExamples),
    vague: count('vague-guidance'),
    unresolvedConflicts: count('unresolved-conflict'),
  };
}

/** One line: `5 principles, 10 sub-rules, 0 examples; explained 0% (0/5); …`. */
export function formatLintSummary(summary: LintSummary): string {
  const percent = (share: number) => `${Math.round(share * 100)}%`;
  return (
    `${summary.principles} principles, ${summary.subRules} sub-rules, ${summary.examples} examples; ` +
    `explained ${percent(summary.explainedShare)} (${summary.explained}/${summary.principles}), ` +
    `with examples ${percent(summary.withExamplesShare)} (${summary.withExamples}/${summary.principles}), ` +
    `${summary.vague} vague, ${summary.unresolvedConflicts} unresolved conflicts`
  );
}
