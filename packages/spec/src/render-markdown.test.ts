import { readFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fingerprintSpec } from './fingerprint.js';
import { parseSpec } from './load-spec.js';
import { renderMarkdown } from './render-markdown.js';
import { renderJson, renderYaml } from './render-structured.js';
import { arbitrarySpec } from './spec-arbitrary.js';
import { EXAMPLE_FILES, EXAMPLES_DIR } from './test-fixtures.js';

const NUM_RUNS = 200;

describe('round trips (property-based)', () => {
  it('spec → Markdown → spec gives back the same spec', () => {
    fc.assert(
      fc.property(arbitrarySpec, (spec) => {
        const markdown = renderMarkdown(spec);
        expect(parseSpec(markdown, { format: 'markdown' }).spec).toEqual(spec);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('Markdown → spec → Markdown is a fixed point', () => {
    fc.assert(
      fc.property(arbitrarySpec, (spec) => {
        const once = renderMarkdown(spec);
        const twice = renderMarkdown(parseSpec(once, { format: 'markdown' }).spec);
        expect(twice).toBe(once);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('spec → JSON → spec and spec → YAML → spec give back the same spec and fingerprint', () => {
    fc.assert(
      fc.property(arbitrarySpec, (spec) => {
        const fromJson = parseSpec(renderJson(spec), { format: 'json' }).spec;
        const fromYaml = parseSpec(renderYaml(spec), { format: 'yaml' }).spec;
        expect(fromJson).toEqual(spec);
        expect(fromYaml).toEqual(spec);
        expect(fingerprintSpec(fromYaml)).toBe(fingerprintSpec(spec));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('round trips of the example specs', () => {
  it('Markdown → spec → Markdown → spec is stable for every example', async () => {
    for (const file of EXAMPLE_FILES) {
      const source = await readFile(path.join(EXAMPLES_DIR, file), 'utf8');
      const format = file.endsWith('.md') ? 'markdown' : 'yaml';
      const first = parseSpec(source, { format }).spec;
      const markdown = renderMarkdown(first);
      const second = parseSpec(markdown, { format: 'markdown' }).spec;
      expect(second, file).toEqual(first);
      expect(renderMarkdown(second), file).toBe(markdown);
    }
  });
});

describe('renderMarkdown', () => {
  it('writes the canonical heading-based form', () => {
    const { spec } = parseSpec(
      [
        'id: s',
        'title: S',
        'version: "1"',
        'principles:',
        '  - id: P1',
        '    title: Be exact',
        '    statement: Quote prices per pound.',
        '    priority: 1',
        '    subRules: [Round to cents.]',
        '    rationale: People compare prices.',
        '    values: [thrift]',
        '    examples:',
        '      - kind: good',
        '        transcript:',
        '          - { role: user, content: "Price?" }',
        '          - { role: assistant, content: "$7.99 a pound." }',
        '        explanation: Exact.',
      ].join('\n'),
      { format: 'yaml' },
    );
    expect(renderMarkdown(spec)).toBe(
      [
        '---',
        'id: s',
        'version: "1"',
        '---',
        '',
        '# S',
        '',
        '## Principles',
        '',
        '### Be exact {#P1 priority=1}',
        '',
        'Quote prices per pound.',
        '',
        '- Round to cents.',
        '',
        '**Rationale:** People compare prices.',
        '',
        '**Serves:** thrift',
        '',
        '**Good example:**',
        '',
        '> **user:** Price?',
        '> **assistant:** $7.99 a pound.',
        '',
        '**Why:** Exact.',
        '',
      ].join('\n'),
    );
  });
});
