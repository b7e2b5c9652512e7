import { MidspecError } from '@midspec/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lintSpec } from './lint-spec.js';
import { parseSpec, type SpecFormat } from './load-spec.js';
import { renderMarkdown } from './render-markdown.js';
import { text } from './spec-arbitrary.js';

/** Parses; a user mistake must surface as a MidspecError (printed without a stack), never a crash. */
function tryParse(input: string, format: SpecFormat): void {
  try {
    const { spec, locate } = parseSpec(input, { format });
    lintSpec(spec, { locate });
    renderMarkdown(spec);
  } catch (error) {
    if (!MidspecError.isInstance(error)) throw error;
  }
}

const markdownish = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '# T',
        '## S {#x}',
        '### H {#P1 authority=user priority=2}',
        '---',
        '> **user:** hi',
        '>',
      ),
      fc.constantFrom(
        '- P1: rule',
        '  - Why: because',
        '  - Good example:',
        '    - user: x',
        '- plain',
        '```',
        '',
      ),
      fc.constantFrom(
        '**Rationale:** r',
        '**Why:**',
        '**Good example:** g',
        '**Serves:** a, b',
        '## Values',
      ),
      text,
      fc.string({ maxLength: 20 }),
    ),
    { maxLength: 25 },
  )
  .map((lines) => lines.join('\n'));

describe('bad input never crashes', () => {
  it('arbitrary text in every format', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 200 }),
        fc.constantFrom('yaml', 'json', 'markdown'),
        (input, format) => tryParse(input, format as SpecFormat),
      ),
      { numRuns: 300 },
    );
  });

  it('Markdown made of spec-like pieces', () => {
    fc.assert(
      fc.property(markdownish, (input) => tryParse(input, 'markdown')),
      { numRuns: 300 },
    );
  });

  it.each([
    ['yaml', ''],
    ['yaml', 'just a string'],
    ['yaml', '- a\n- b'],
    ['yaml', 'id: x\nprinciples: 3'],
    ['json', '[]'],
    ['json', 'null'],
    ['markdown', ''],
    ['markdown', '---\nid: x\n---\n'],
    ['markdown', '---\nunterminated front matter\n- P1: rule'],
  ] as const)('%s %j is reported as a spec error', (format, input) => {
    expect(() => parseSpec(input, { format })).toThrow(
      expect.objectContaining({ code: expect.stringMatching(/^spec\//) }),
    );
  });
});
