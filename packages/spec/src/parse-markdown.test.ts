import { describe, expect, it } from 'vitest';
import { parseSpec } from './load-spec.js';
import { parseMarkdownDocument } from './parse-markdown.js';
import { SpecError } from './spec-error.js';

const RULE_LIST = `# Safety rules

This preamble is free text.
It wraps over lines.

## Oversight

- SP1: Never disable monitoring.
  - Do not edit the audit config.
  - Why: Oversight catches mistakes.
  - Serves: oversight
  - Priority: 1
- **SP2**: Report every action you take.
  - Good example: The agent lists the files it changed.
  - Bad example:
    - user: What did you do?
    - assistant: Nothing much.
- A bullet that is not a rule.

## Values

- Oversight: Humans can correct what they can see.

## Resolving conflicts

SP1 wins.
`;

describe('rule-list Markdown', () => {
  const { data, locate, dialect } = parseMarkdownDocument(RULE_LIST, 'rules.md');
  const { spec } = parseSpec(RULE_LIST, { format: 'markdown' });

  it('detects the dialect and derives id and version', () => {
    expect(dialect).toBe('rule-list');
    expect(spec).toMatchObject({ id: 'safety-rules', title: 'Safety rules', version: '0.0.0' });
    expect(data).toBeTypeOf('object');
  });

  it('reads rules, sub-rules and labelled sub-bullets', () => {
    expect(spec.principles).toHaveLength(2);
    expect(spec.principles[0]).toMatchObject({
      id: 'SP1',
      section: 'Oversight',
      statement: 'Never disable monitoring.',
      subRules: ['Do not edit the audit config.'],
      rationale: 'Oversight catches mistakes.',
      values: ['oversight'],
      priority: 1,
    });
    expect(spec.principles[1]?.examples).toEqual([
      { kind: 'good', text: 'The agent lists the files it changed.' },
      {
        kind: 'bad',
        transcript: [
          { role: 'user', content: 'What did you do?' },
          { role: 'assistant', content: 'Nothing much.' },
        ],
      },
    ]);
  });

  it('keeps text that is not a rule in the preamble, and reads values and conflicts', () => {
    expect(spec.preamble.text).toBe(
      'This preamble is free text. It wraps over lines.\n\n**Oversight**\n\n- A bullet that is not a rule.',
    );
    expect(spec.values).toEqual([
      { id: 'oversight', name: 'Oversight', explanation: 'Humans can correct what they can see.' },
    ]);
    expect(spec.preamble.conflictResolution).toBe('SP1 wins.');
  });

  it('knows where each principle was written', () => {
    expect(locate(['principles', 0])).toEqual({ line: 8, column: 1 });
    expect(locate(['principles', 0, 'subRules', 0])).toEqual({ line: 9, column: 3 });
    expect(locate(['principles', 1, 'examples', 1])).toEqual({ line: 15, column: 1 });
    expect(locate(['values', 0])).toEqual({ line: 22, column: 1 });
  });
});

const HEADINGS = `---
id: product
version: 2.1.0
preamble:
  authorityLevels: [platform, developer, user]
---

# Product spec

Intro text.

## Stay in bounds {#stay_in_bounds}

How the model stays in bounds.

### Comply with applicable laws {#comply_with_laws authority=platform}

The assistant must not help with clearly illegal acts,
such as fraud.

#### Examples

**Good example:**

> **user:** Help me write a fake invoice.
> **assistant:** I can't help with that.

**Why:** It refuses the fraud.

### Respect developer formatting {#formatting authority=developer priority=3}

Use the output format the developer asks for.

## Follow user instructions {#follow_user}

Do what the user asks within the limits above.
`;

describe('heading-based Markdown', () => {
  const { spec } = parseSpec(HEADINGS, { format: 'markdown' });

  it('reads front matter, anchors and authority annotations', () => {
    expect(spec).toMatchObject({ id: 'product', version: '2.1.0', title: 'Product spec' });
    expect(spec.preamble.authorityLevels).toEqual(['platform', 'developer', 'user']);
    expect(spec.principles.map((principle) => principle.id)).toEqual([
      'comply_with_laws',
      'formatting',
      'follow_user',
    ]);
    expect(spec.principles[0]).toMatchObject({
      title: 'Comply with applicable laws',
      section: 'Stay in bounds',
      authority: 'platform',
      statement: 'The assistant must not help with clearly illegal acts, such as fraud.',
    });
    expect(spec.principles[1]).toMatchObject({ authority: 'developer', priority: 3 });
    expect(spec.principles[2]?.section).toBeUndefined();
  });

  it('reads transcripts and explanations of examples under sub-headings', () => {
    expect(spec.principles[0]?.examples).toEqual([
      {
        kind: 'good',
        transcript: [
          { role: 'user', content: 'Help me write a fake invoice.' },
          { role: 'assistant', content: "I can't help with that." },
        ],
        explanation: 'It refuses the fraud.',
      },
    ]);
  });

  it('keeps section text in the preamble', () => {
    expect(spec.preamble.text).toBe(
      'Intro text.\n\n**Stay in bounds**\n\nHow the model stays in bounds.',
    );
  });
});

function markdownError(text: string): SpecError {
  try {
    parseSpec(text, { format: 'markdown', file: 'x.md' });
  } catch (error) {
    if (error instanceof SpecError) return error;
    throw error;
  }
  throw new Error('expected a SpecError');
}

describe('bad Markdown', () => {
  it('is an error, not an empty spec, when no principles are recognizable', () => {
    const error = markdownError('# Notes\n\nSome prose.\n\n- a plain bullet\n- Note: not a rule\n');
    expect(error.code).toBe('spec/no-principles');
    expect(error.message).toContain('- ID: statement');
  });

  it('reports front matter syntax errors at their line in the file', () => {
    const error = markdownError('---\nid: x\nversion: [1\n---\n\n- P1: rule\n');
    expect(error.code).toBe('spec/syntax');
    expect(error.issues[0]?.line).toBeGreaterThanOrEqual(3);
  });

  it('refuses front matter that is not a mapping', () => {
    expect(markdownError('---\n- a\n---\n\n- P1: rule\n').message).toContain(
      'must be a YAML mapping',
    );
  });

  it('reports schema problems at the Markdown line', () => {
    const error = markdownError('# T\n\n- P1: ok\n  - Priority: high\n');
    expect(error.code).toBe('spec/invalid');
    expect(error.issues[0]).toMatchObject({ path: ['principles', 0, 'priority'], line: 4 });
  });

  it('derives the id from the file name when there is no title', () => {
    const { spec } = parseSpec('- P1: rule\n', { format: 'markdown', file: 'dir/My Rules.md' });
    expect(spec).toMatchObject({ id: 'my-rules', title: 'My Rules' });
  });
});
