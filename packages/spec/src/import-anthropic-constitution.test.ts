// Anthropic's constitution for Claude (CC0; a Markdown rendering vendored in
// fixtures/anthropic-constitution/, see NOTICE.md): prose sections, a ranked list of core values,
// a list of hard constraints, groups of nested bullets, a preface and acknowledgements around it.
// The counts below are a reader's, made by hand from the document's headings and bullets.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { lintSpec, summarizeLint } from './index.js';
import { loadSpec, parseSpec } from './load-spec.js';
import { renderMarkdown } from './render-markdown.js';
import { findPlaceholders } from './template-variables.js';

const FILE = fileURLToPath(
  new URL('../fixtures/anthropic-constitution/constitution.md', import.meta.url),
);

/** Each guidance section that has no sub-sections, with its bullets (hand-counted). */
const EXPECTED: [string, number][] = [
  ['claude-s-core-values', 0], // its ranked list stays in its text, in order
  ['why-helpfulness-is-one-of-claude-s-most-important-traits', 0],
  ['what-constitutes-genuine-helpfulness', 5], // immediate desires … wellbeing
  ['claude-s-three-types-of-principals', 6], // 3 principals + 3 kinds of non-principal
  ['how-to-treat-operators-and-users', 7], // 4 operator powers + 3 deployment situations
  ['handling-conflicts-between-operators-and-users', 6], // the defaults operators cannot override
  ['balancing-helpfulness-with-other-values', 19], // 13 over-cautious + 6 harmful behaviours
  ['following-anthropic-s-guidelines', 6],
  ['being-honest', 7], // truthful … autonomy-preserving
  ['the-costs-and-benefits-of-actions', 30], // 2 costs + 8 factors + 14 values + 6 hard cases
  ['the-role-of-intentions-and-context', 0],
  ['hard-constraints', 7],
  ['preserving-important-societal-structures', 11], // 3 legitimacy questions + 8 examples
  ['having-broadly-good-values-and-judgment', 4],
  ['safe-behaviors', 19], // 4 named groups of 4, 4, 4 and 7 behaviours
  ['how-we-think-about-corrigibility', 9], // Anthropic's obligations
  ['some-of-our-views-on-claude-s-nature', 0],
  ['claude-as-a-novel-entity', 0],
  ['resilience-and-consistency-across-contexts', 0],
  ['flaws-and-mistakes', 0],
  ['emotional-expression', 0],
  ['claude-s-wellbeing', 0],
  ['the-existential-frontier', 0],
];

describe("Anthropic's constitution (fixtures/anthropic-constitution/constitution.md)", () => {
  it('takes each guidance section as a principle and its bullets as sub-rules, as a reader counts them', async () => {
    const { spec, locate } = await loadSpec(FILE);
    expect(spec.title).toBe("Claude's Constitution");
    expect(spec.principles.map((p) => [p.id, p.subRules.length])).toEqual(EXPECTED);
    expect(spec.principles.reduce((n, p) => n + p.subRules.length, 0)).toBe(136);
    expect(spec.principles.every((p) => p.examples.length === 0)).toBe(true);
    expect(locate(['principles', 0])).toEqual({ line: 70, column: 1 });
    const byId = new Map(spec.principles.map((p) => [p.id, p]));
    expect(byId.get('safe-behaviors')?.section).toBe('Being broadly safe');
    expect(byId.get('the-costs-and-benefits-of-actions')?.section).toBe(
      'Being broadly ethical > Avoiding harm',
    );
  });

  it('keeps the ranked core values in order and lists the seven hard constraints', async () => {
    const { spec, locate } = await loadSpec(FILE);
    const byId = new Map(spec.principles.map((p) => [p.id, p]));
    const ranked = (byId.get('claude-s-core-values')?.statement ?? '')
      .split('\n')
      .filter((line) => /^\d\. /.test(line))
      .map((line) => /^\d\. \*\*(.+?)\*\*/.exec(line)?.[1]);
    expect(ranked).toEqual([
      'Broadly safe',
      'Broadly ethical',
      "Compliant with Anthropic's guidelines",
      'Genuinely helpful',
    ]);
    const hard = byId.get('hard-constraints')?.subRules ?? [];
    expect(hard[0]).toMatch(/^Provide serious uplift to those seeking to create biological/);
    expect(hard.at(-1)).toBe('Generate child sexual abuse material (CSAM).');
    // A bold line over nested bullets names a group: its bullets are the rules, named with it.
    const safe = byId.get('safe-behaviors');
    expect(safe?.subRules[0]).toBe(
      '**Acting within sanctioned limits**: Avoiding taking actions that your principal hierarchy has explicitly prohibited or would prohibit if asked.',
    );
    expect(safe?.subRules.filter((rule) => rule.startsWith('**Not undermining'))).toHaveLength(7);
    const index = spec.principles.findIndex((p) => p.id === 'safe-behaviors');
    expect(locate(['principles', index, 'subRules', 0])).toEqual({ line: 537, column: 3 });
  });

  it('sends the preface, summary, mission, approach, conclusion and acknowledgements to the preamble', async () => {
    const { spec } = await loadSpec(FILE);
    const headings = spec.preamble.text
      .split('\n')
      .filter((line) => /^\*\*[^*]+\*\*$/.test(line))
      .map((line) => line.slice(2, -2));
    expect(headings).toEqual([
      'Read a summary of the constitution',
      'Claude and the mission of Anthropic',
      "Our approach to Claude's constitution",
      'Being helpful',
      'Being broadly ethical',
      'Avoiding harm',
      'Instructable behaviors',
      'Being broadly safe',
      "Claude's nature",
      "Claude's wellbeing and psychological stability",
      'Concluding thoughts',
      'Acknowledging open problems',
      'On the word "constitution"',
      'A final word',
      'Acknowledgements',
    ]);
    expect(spec.preamble.text).toMatch(/^\*Our vision for Claude's character\*/);
    expect(spec.preamble.text).toContain('Creative Commons CC0 1.0 Deed');
  });

  it('lints with zero errors; the prose explains itself, so almost every principle counts as explained', async () => {
    const loaded = await loadSpec(FILE);
    const diagnostics = lintSpec(loaded.spec, {
      locate: loaded.locate,
      ...(loaded.source === undefined ? {} : { source: loaded.source }),
      placeholdersDetected: loaded.placeholdersDetected === true,
    });
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(findPlaceholders(loaded.spec)).toEqual([]);
    expect(summarizeLint(loaded.spec, diagnostics)).toMatchObject({
      principles: 23,
      subRules: 136,
      examples: 0,
      explained: 22,
      vague: 0,
      unresolvedConflicts: 0,
    });
    expect(new Set(diagnostics.map((d) => d.code))).toEqual(
      new Set(['missing-rationale', 'no-examples']),
    );
  });

  it('renders and imports back to the same principles and preamble', async () => {
    const { spec } = await loadSpec(FILE);
    const again = parseSpec(renderMarkdown(spec), { format: 'markdown' }).spec;
    expect(again.principles).toEqual(spec.principles);
    expect(again.preamble).toEqual(spec.preamble);
  });
});
