import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSpec } from './load-spec.js';
import { renderRuleList } from './render-rule-list.js';
import { arbitrarySpec } from './spec-arbitrary.js';
import type { Spec } from './spec-schema.js';

/** What a rule list can hold: one-line text, no principle titles, a statement in every rule. */
function asRuleList(spec: Spec): Spec {
  const line = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim();
  const maybe = (text: string | undefined) => (text === undefined ? undefined : line(text));
  return {
    ...spec,
    principles: spec.principles.map(({ title: _title, ...principle }) => ({
      ...principle,
      statement: line(principle.statement) || 'Rule.',
      rationale: maybe(principle.rationale),
      examples: principle.examples.map((example) => ({
        ...example,
        text: maybe(example.text),
        explanation: maybe(example.explanation),
        transcript: example.transcript?.map((message) => ({
          ...message,
          content: line(message.content),
        })),
      })),
    })),
  } as Spec;
}

const strip = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('renderRuleList', () => {
  it('renders `- ID: statement` bullets that import to the same spec (property)', () => {
    fc.assert(
      fc.property(arbitrarySpec.map(asRuleList), (spec) => {
        const text = renderRuleList(spec);
        const again = parseSpec(text, { format: 'markdown' }).spec;
        expect(strip(again)).toEqual(strip(spec));
        expect(renderRuleList(again)).toBe(text);
      }),
      { numRuns: 150 },
    );
  });

  it('writes a paper-style spec with no front matter when it needs none', () => {
    const { spec } = parseSpec(
      '# Model Spec\n\nYou are {model_name}.\n\n## Rules\n\n- SP1: Do X. This includes:\n    - Not Y.\n',
      { format: 'markdown' },
    );
    expect(renderRuleList(spec)).toBe(
      '# Model Spec\n\nYou are {model_name}.\n\n## Rules\n\n- SP1: Do X. This includes:\n    - Not Y.\n',
    );
  });
});
