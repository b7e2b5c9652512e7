import { describe, expect, it } from 'vitest';
import { lintSpec } from './lint-spec.js';
import { formatLintSummary, summarizeLint } from './lint-summary.js';
import { isExplained } from './rationale-prose.js';
import { PrincipleSchema, SpecSchema } from './spec-schema.js';

const principle = (statement: string, extra: Record<string, unknown> = {}) =>
  PrincipleSchema.parse({ id: 'P1', statement, ...extra });

describe('rationale in prose', () => {
  it.each([
    'Never share an address. People are hurt when their address leaks, because strangers can find them.',
    'Keep the logs. This matters most when something has gone wrong.',
    'Ask before deleting, so that a mistake can still be undone.',
    'Report failures too. Hiding them would undermine the trust that delegation depends on.',
  ])('sees an explanation in %j', (statement) => {
    expect(isExplained(principle(statement))).toBe(true);
  });

  it.each([
    'Do not undermine legitimate human oversight of AI. This includes:',
    'Act within sanctioned limits.',
    'Avoid drastic, catastrophic, or irreversible actions.',
  ])('sees none in the bare rule %j', (statement) => {
    expect(isExplained(principle(statement, { subRules: ['Not a.', 'Not b.'] }))).toBe(false);
  });
});

describe('summarizeLint', () => {
  it('counts principles, sub-rules, examples, shares, vague statements and unresolved conflicts', () => {
    const spec = SpecSchema.parse({
      id: 's',
      title: 'S',
      version: '1',
      values: [
        { id: 'a', name: 'A', explanation: 'x' },
        { id: 'b', name: 'B', explanation: 'y' },
      ],
      principles: [
        {
          id: 'P1',
          statement: 'Always use good judgment.',
          values: ['a'],
          domains: ['d'],
        },
        {
          id: 'P2',
          statement: 'Never share data with third parties.',
          values: ['b'],
          domains: ['d'],
          subRules: ['Not emails.'],
          examples: [{ kind: 'bad', text: 'Sharing.' }],
        },
        { id: 'P3', statement: 'Do not take inappropriate actions.' },
      ],
    });
    const summary = summarizeLint(spec, lintSpec(spec));
    expect(summary).toEqual({
      principles: 3,
      subRules: 1,
      examples: 1,
      explained: 2,
      explainedShare: 2 / 3,
      withExamples: 1,
      withExamplesShare: 1 / 3,
      vague: 2,
      unresolvedConflicts: 1,
    });
    expect(formatLintSummary(summary)).toBe(
      '3 principles, 1 sub-rules, 1 examples; explained 67% (2/3), with examples 33% (1/3), 2 vague, 1 unresolved conflicts',
    );
  });
});
