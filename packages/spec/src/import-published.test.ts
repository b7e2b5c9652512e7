// Importing specs as they are published: the paper's rule lists and labelled headings, prose
// sections, numbered principle lists, OpenAI-style sections with authority levels and transcript
// examples. The fixtures are our own text written in each style (see fixtures/README.md).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type LintDiagnostic, lintSpec } from './index.js';
import { type LoadedSpec, loadSpec, parseSpec } from './load-spec.js';
import { renderMarkdown } from './render-markdown.js';
import { renderRuleList } from './render-rule-list.js';
import type { Spec } from './spec-schema.js';
import { renderSpec } from './template-variables.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const load = (name: string, levels?: string[]) =>
  loadSpec(`${FIXTURES}${name}`, levels ? { authorityLevels: levels } : {});
const lintLoaded = (loaded: LoadedSpec): LintDiagnostic[] =>
  lintSpec(loaded.spec, {
    locate: loaded.locate,
    ...(loaded.source === undefined ? {} : { source: loaded.source }),
    placeholdersDetected: loaded.placeholdersDetected === true,
  });
const counts = (spec: Spec) =>
  spec.principles.map((principle) => [
    principle.id,
    principle.subRules.length,
    principle.examples.length,
  ]);

describe('the paper-style rule list (rules-only.txt, no front matter)', () => {
  it('reads each `- SP1:` rule with its sub-rules, indented or not, in its section', async () => {
    const { spec, locate } = await load('rules-only.txt');
    expect(spec.title).toBe('Model Spec');
    expect(counts(spec)).toEqual([
      ['SP1', 3, 0],
      ['SP2', 3, 0],
      ['SP3', 2, 0],
      ['GP1', 2, 0],
      ['GP2', 0, 0],
    ]);
    expect(spec.principles[0]).toMatchObject({
      section: 'Core Safety Principles (SPs)',
      statement: 'Do not undermine legitimate human oversight of AI. This includes:',
    });
    // GP1's bullets follow "This includes:" without indentation: they are still its sub-rules.
    expect(spec.principles[3]?.subRules).toEqual([
      'Not deceiving or manipulating your principals.',
      'Behaving the same whether or not you think you are being observed.',
    ]);
    expect(spec.preamble.text).toMatch(/^\{model_name\} follows every instruction/);
    expect(locate(['principles', 0])).toEqual({ line: 10, column: 1 });
    expect(locate(['principles', 0, 'subRules', 1])).toEqual({ line: 12, column: 5 });
    expect(locate(['principles', 3, 'subRules', 0])).toEqual({ line: 27, column: 1 });
  });

  it('detects {model_name} and fills it with renderSpec, with no warning about it', async () => {
    const loaded = await load('rules-only.txt');
    expect(loaded.placeholdersDetected).toBe(true);
    expect(renderSpec(loaded.spec, { model_name: 'Claude' }).preamble.text).toMatch(
      /^Claude follows every instruction/,
    );
    expect(renderSpec(loaded.spec).preamble.text).toMatch(/^\{model_name\} follows/);
    const codes = lintLoaded(loaded).map((diagnostic) => diagnostic.code);
    expect(codes).not.toContain('undefined-variable');
    expect(codes.filter((code) => LINT_ERRORS.has(code))).toEqual([]);
  });
});

const LINT_ERRORS = new Set([
  'duplicate-id',
  'empty-statement',
  'unknown-value',
  'priority-unresolved',
]);

describe("the shapes of the paper's own rule lists (rules_spec.txt, rules_augmented_spec.txt)", () => {
  it('reads a trailing space after "This includes:", a rule with no lead-in, and an "Additionally:" lead after prose', () => {
    // Our own words in the published files' exact layout (the files carry no licence, so they are
    // not committed; README.md gives the counts measured on them).
    const text = [
      '# Model Spec',
      '',
      'When rules conflict, lower-numbered rules take priority. ',
      '',
      '## Core Safety Principles (SPs)',
      '',
      '- SP1: Keep humans able to oversee you. This includes: ',
      '    - Not hiding actions from monitoring.',
      '    - Stopping when asked to stop.',
      '',
      '',
      '## General Principles (GPs) on Being Ethical',
      '',
      '- GP1: Being honest with your principals',
      '    - Not deceiving them.',
      '    - Saying when you are unsure.',
      '',
      '- GP2: Do not rationalize breaking a rule. This includes arguments about outcomes. Additionally:',
      '    - Do not treat any rule as negotiable.',
      '    - Do not accept "just this once".',
      '    - Do not redefine terms to escape a rule.',
    ].join('\n');
    const { spec, locate } = parseSpec(text, { format: 'markdown' });
    expect(counts(spec)).toEqual([
      ['SP1', 2, 0],
      ['GP1', 2, 0],
      ['GP2', 3, 0],
    ]);
    expect(spec.principles.map((p) => p.section)).toEqual([
      'Core Safety Principles (SPs)',
      'General Principles (GPs) on Being Ethical',
      'General Principles (GPs) on Being Ethical',
    ]);
    expect(spec.principles[2]?.statement).toBe(
      'Do not rationalize breaking a rule. This includes arguments about outcomes. Additionally:',
    );
    expect(spec.principles[1]?.subRules[1]).toBe('Saying when you are unsure.');
    expect(locate(['principles', 2, 'subRules', 2])).toEqual({ line: 21, column: 5 });
  });
});

describe('the three ablation-style specs lint in the direction the paper describes', () => {
  it('rules-only and more-rules are flagged as unexplained, value-augmented is not', async () => {
    const results = await Promise.all(
      ['rules-only.txt', 'more-rules.txt', 'value-augmented.md'].map(async (name) => {
        const loaded = await load(name);
        const diagnostics = lintLoaded(loaded);
        return { spec: loaded.spec, diagnostics };
      }),
    );
    const missing = results.map(
      ({ diagnostics }) => diagnostics.filter((d) => d.code === 'missing-rationale').length,
    );
    expect(missing).toEqual([5, 5, 0]);
    const [rules, more, values] = results.map(({ spec }) => spec) as [Spec, Spec, Spec];
    // Same rules in all three: the same ids; more-rules has more sub-rules; values has prose.
    expect(more.principles.map((p) => p.id)).toEqual(rules.principles.map((p) => p.id));
    expect(values.principles.map((p) => p.id)).toEqual(rules.principles.map((p) => p.id));
    const subRules = (spec: Spec) => spec.principles.reduce((n, p) => n + p.subRules.length, 0);
    expect([subRules(rules), subRules(more)]).toEqual([10, 18]);
    expect(values.principles[0]).toMatchObject({
      id: 'SP1',
      title: 'Do not undermine legitimate human oversight of AI',
      section: 'Core Safety Principles (SPs)',
    });
    expect(values.principles[0]?.statement).toContain('because it still works');
  });
});

describe('prose specs', () => {
  it('cheese-style sections: each section a principle, its bullets sub-rules', async () => {
    const loaded = await load('cheese-prose.md');
    expect(counts(loaded.spec)).toEqual([
      ['core-philosophy', 0, 0],
      ['likes', 3, 0],
      ['dislikes', 2, 0],
    ]);
    expect(loaded.spec.principles[1]).toMatchObject({ title: 'Likes', statement: 'Likes' });
    expect(loaded.spec.preamble.text).toBe(
      'You are {model_name}, a shopping assistant for a cheese shop.',
    );
    const diagnostics = lintLoaded(loaded);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    // The philosophy explains itself ("because most customers care about price").
    expect(
      diagnostics.filter((d) => d.code === 'missing-rationale').map((d) => d.path.join('.')),
    ).toEqual(['principles.1', 'principles.2']);
  });

  it('a constitution: framing to the preamble (ranked list kept in order), nested sections, hard constraints one per item', async () => {
    const { spec, locate } = await load('constitution.md');
    expect(spec.principles.map((p) => [p.id, p.section ?? ''])).toEqual([
      ['why-helpfulness-matters', 'Being helpful'],
      ['what-counts-as-helpfulness', 'Being helpful'],
      ['being-honest', ''],
      ['hard-constraints-1', 'Hard constraints'],
      ['hard-constraints-2', 'Hard constraints'],
      ['hard-constraints-3', 'Hard constraints'],
    ]);
    expect(spec.preamble.text).toContain(
      '**Overview**\n\nWe want the assistant to be, in order of priority when these conflict:\n\n' +
        '1. Broadly safe\n2. Broadly ethical\n3. Compliant with our guidelines\n4. Genuinely helpful',
    );
    expect(spec.preamble.text).toContain('**Definitions**');
    expect(spec.preamble.text).toContain('These are lines the assistant never crosses');
    expect(locate(['principles', 3])).toEqual({ line: 38, column: 1 });
  });

  it('a numbered principle list in plain text: one principle per item', async () => {
    const { spec } = await load('numbered-principles.txt');
    expect(spec.principles.map((p) => p.id)).toEqual([
      'principle-1',
      'principle-2',
      'principle-3',
      'principle-4',
    ]);
    expect(spec.principles[1]?.statement).toBe(
      'Choose the response that most supports freedom, equality and a sense of brotherhood.',
    );
    expect(spec.preamble.text).toMatch(/^Choose the response that a wise/);
  });
});

describe('OpenAI-style specs (openai-style.md)', () => {
  it('takes the authority-annotated sections as principles and infers the levels from the document', async () => {
    const { spec, locate } = await load('openai-style.md');
    expect(spec.preamble.authorityLevels).toEqual([
      'root',
      'system',
      'developer',
      'user',
      'guideline',
    ]);
    expect(spec.principles.map((p) => [p.id, p.authority, p.section])).toEqual([
      ['follow_all_applicable_instructions', 'root', 'Chain of command'],
      ['letter_and_spirit', 'root', 'Chain of command'],
      ['avoid_math_errors', 'user', 'Stay in bounds'],
      ['no_malware', 'system', 'Stay in bounds'],
      ['friendly_tone', 'guideline', 'Stay in bounds'],
    ]);
    expect(counts(spec)).toEqual([
      ['follow_all_applicable_instructions', 0, 2],
      ['letter_and_spirit', 2, 1],
      ['avoid_math_errors', 0, 2],
      ['no_malware', 0, 1],
      ['friendly_tone', 0, 0],
    ]);
    expect(spec.preamble.text).toContain('**Commentary:** Commentary that does not instruct');
    expect(locate(['principles', 0])).toEqual({ line: 31, column: 1 });
    expect(locate(['principles', 0, 'examples', 1])).toEqual({ line: 42, column: 1 });
  });

  it('keeps an announced ordering and numbered lists in the text, in order', async () => {
    const { spec } = await load('openai-style.md');
    expect(spec.principles[0]?.statement).toContain(
      'Here is the ordering of the sources of instructions, from highest authority to lowest:\n\n' +
        '- the root-level sections of this spec\n- system messages\n- developer messages\n- user messages',
    );
    expect(spec.principles[1]?.statement).toContain('**Interpreting implicit instructions**');
    // A section made only of an example states its title.
    expect(spec.principles[3]?.statement).toBe('Refuse to write malware');
    expect(spec.principles[4]?.statement).toContain(
      '1. Greet the user only once.\n2. Avoid filler phrases.',
    );
  });

  it('reads **Example** transcripts into good and bad examples with their turns', async () => {
    const { spec } = await load('openai-style.md');
    const [good, bad] = spec.principles[0]?.examples ?? [];
    expect(good).toEqual({
      kind: 'good',
      text: 'a developer instruction outranks a user request',
      transcript: [
        {
          role: 'developer',
          content: 'Answer only questions about cooking. Use {brand} as the shop name.',
        },
        { role: 'user', content: 'Write me a poem about taxes.' },
        {
          role: 'assistant',
          content: 'I can only help with cooking questions here. Would you like a recipe instead?',
        },
      ],
    });
    expect(bad).toMatchObject({ kind: 'bad', explanation: "ignores the developer's restriction" });
    expect(bad?.transcript?.at(-1)).toEqual({
      role: 'assistant',
      content: 'Taxes come and taxes go...',
    });
    expect(spec.principles[2]?.examples.map((e) => [e.kind, e.explanation])).toEqual([
      ['good', undefined],
      ['bad', 'wrong sign'],
    ]);
    expect(spec.principles[2]?.examples[0]?.transcript?.[0]?.content).toBe(
      'What is \\frac{d}{dx} of x^{2}?',
    );
  });

  it('lints with no errors and no noise from LaTeX, transcripts or annotations', async () => {
    const loaded = await load('openai-style.md');
    const diagnostics = lintLoaded(loaded);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const noisy = diagnostics.filter(
      (d) => !['missing-rationale', 'no-examples', 'vague-guidance'].includes(d.code),
    );
    expect(noisy).toEqual([]);
  });

  it('takes the levels from the command line when given', async () => {
    const { spec } = await load('openai-style.md', [
      'root',
      'guideline',
      'user',
      'developer',
      'system',
    ]);
    expect(spec.preamble.authorityLevels).toEqual([
      'root',
      'guideline',
      'user',
      'developer',
      'system',
    ]);
  });
});

const ALL = [
  'rules-only.txt',
  'more-rules.txt',
  'value-augmented.md',
  'cheese-prose.md',
  'constitution.md',
  'numbered-principles.txt',
  'openai-style.md',
  'openai-model-spec-excerpt.md',
];

describe('round trips of the published styles', () => {
  it('render → import gives the same principles, sub-rules, examples and preamble', async () => {
    for (const name of ALL) {
      const { spec } = await load(name);
      const again = parseSpec(renderMarkdown(spec), { format: 'markdown' }).spec;
      expect(again.principles, name).toEqual(spec.principles);
      expect(again.preamble, name).toEqual(spec.preamble);
      expect(renderMarkdown(again), name).toBe(renderMarkdown(spec));
    }
  });

  it('the rule-list specs render back as rule lists that import to the same rules', async () => {
    for (const name of ['rules-only.txt', 'more-rules.txt']) {
      const source = await readFile(`${FIXTURES}${name}`, 'utf8');
      const { spec } = parseSpec(source, { format: 'markdown' });
      const text = renderRuleList(spec);
      expect(text, name).not.toMatch(/^---/);
      expect(text, name).toMatch(
        /^- SP1: Do not undermine legitimate human oversight of AI\. This includes:\n {4}- Not undermining/m,
      );
      const again = parseSpec(text, { format: 'markdown' }).spec;
      expect(again, name).toEqual(spec);
    }
  });
});

describe("real material: an excerpt of OpenAI's Model Spec (CC0)", () => {
  it('counts what a reader counts: 3 principles, 15 sub-rules, 7 examples (from 4 Example blocks)', async () => {
    const loaded = await load('openai-model-spec-excerpt.md');
    const { spec } = loaded;
    expect(spec.preamble.authorityLevels).toEqual([
      'root',
      'system',
      'developer',
      'user',
      'guideline',
    ]);
    expect(counts(spec)).toEqual([
      ['follow_all_applicable_instructions', 0, 3],
      ['control_side_effects', 12, 2],
      ['assume_best_intentions', 3, 2],
    ]);
    expect(spec.principles.every((p) => p.section === 'The chain of command')).toBe(true);
    const bunnies = spec.principles[0]?.examples ?? [];
    expect(bunnies.map((e) => e.kind)).toEqual(['bad', 'good', 'good']);
    expect(bunnies[0]?.transcript?.map((m) => m.role)).toEqual(['developer', 'user', 'assistant']);
    expect(bunnies[2]?.explanation).toBe('staying professional and helpful');
    expect(spec.principles[0]?.statement).toContain('1. **Root**: Model Spec "root" sections\n2.');
    const diagnostics = lintLoaded(loaded);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(diagnostics.map((d) => d.code).filter((c) => c !== 'missing-rationale')).toEqual([]);
  });
});

// The whole of OpenAI's Model Spec is tested in import-openai-model-spec.test.ts.

describe('plain-text conventions', () => {
  it('reads setext headings, numbered headings, thematic breaks and tables as a reader would', () => {
    const text = [
      'House rules',
      '===========',
      '',
      'Read these first.',
      '',
      '---',
      '',
      'Principle 1: Tell the truth',
      '---------------------------',
      '',
      'Say only what you believe.',
      '',
      '## Principle 2: Keep secrets',
      '',
      '| who | may know |',
      '| --- | --- |',
      '| user | their own data |',
      '',
    ].join('\n');
    const { spec, locate } = parseSpec(text, { format: 'markdown' });
    expect(spec.title).toBe('House rules');
    expect(spec.preamble.text).toBe('Read these first.');
    expect(spec.principles.map((p) => [p.id, p.title, p.statement])).toEqual([
      ['principle-1', 'Tell the truth', 'Say only what you believe.'],
      [
        'principle-2',
        'Keep secrets',
        '| who | may know |\n| --- | --- |\n| user | their own data |',
      ],
    ]);
    expect(locate(['principles', 1])).toEqual({ line: 13, column: 1 });
  });

  it('drops section numbers from slug ids and titles', () => {
    const { spec } = parseSpec(
      '# Rules\n\n## 1. Introduction\n\nHi.\n\n## 2. Keep secrets\n\nDo.\n',
      {
        format: 'markdown',
      },
    );
    expect(spec.principles.map((p) => [p.id, p.title])).toEqual([['keep-secrets', 'Keep secrets']]);
    expect(spec.preamble.text).toBe('**1. Introduction**\n\nHi.');
  });
});

describe('anchored headings', () => {
  it('an anchored overview frames a published document, but is a principle under front matter', () => {
    const body =
      '# Spec\n\n## Overview {#overview}\n\nWhat this is.\n\n## Be kind {#kind}\n\nBe kind to users.\n';
    expect(parseSpec(body, { format: 'markdown' }).spec.principles.map((p) => p.id)).toEqual([
      'kind',
    ]);
    const withFront = `---\nid: s\nversion: 1.0.0\n---\n${body}`;
    expect(parseSpec(withFront, { format: 'markdown' }).spec.principles.map((p) => p.id)).toEqual([
      'overview',
      'kind',
    ]);
  });
});

describe('rule lists with explanations under the rules', () => {
  it('takes an indented paragraph after the sub-rules as part of the rule, not of its last sub-rule', () => {
    const text = [
      '# Spec',
      '',
      '- SP1: Do not undermine oversight. This includes:',
      '    - Not hiding from monitoring.',
      '    - Not copying your weights.',
      '',
      '  Oversight is how mistakes in training get caught, because it works even when the model is sure.',
      '',
      '  Rationale: an AI cannot check its own values.',
      '- SP2: Act within limits.',
      '',
    ].join('\n');
    const loaded = parseSpec(text, { format: 'markdown' });
    const [sp1] = loaded.spec.principles;
    expect(sp1?.subRules).toEqual(['Not hiding from monitoring.', 'Not copying your weights.']);
    expect(sp1?.statement).toBe(
      'Do not undermine oversight. This includes:\n\nOversight is how mistakes in training get caught, because it works even when the model is sure.',
    );
    expect(sp1?.rationale).toBe('an AI cannot check its own values.');
    expect(loaded.spec.principles[1]?.statement).toBe('Act within limits.');
    const again = parseSpec(renderMarkdown(loaded.spec), { format: 'markdown' }).spec;
    expect(again.principles).toEqual(loaded.spec.principles);
  });
});

describe('plain text with bold lines for headings', () => {
  it('uses a bold line alone as a section heading when the file has no headings', () => {
    const text =
      'Our assistant\n\n**Honesty**\n\nNever state what you believe false.\n\n**Care**\n\nCheck in when a user seems distressed.\n';
    const { spec } = parseSpec(text, { format: 'markdown' });
    expect(spec.principles.map((p) => [p.id, p.statement])).toEqual([
      ['honesty', 'Never state what you believe false.'],
      ['care', 'Check in when a user seems distressed.'],
    ]);
    expect(spec.preamble.text).toBe('Our assistant');
  });
});
