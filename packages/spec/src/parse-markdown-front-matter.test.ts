import { describe, expect, it } from 'vitest';
import { parseMarkdownDocument } from './parse-markdown.js';
import { SpecError } from './spec-error.js';

describe('Markdown front matter', () => {
  it('that is never closed is an error with its line, not the spec title', () => {
    const text = '---\nid: cheese\nversion: 1\n# Cheese\n\n- Prefer cheddar.\n';
    let caught: unknown;
    try {
      parseMarkdownDocument(text, 'spec.md');
    } catch (error) {
      caught = error;
    }
    expect(SpecError.isInstance(caught)).toBe(true);
    const error = caught as SpecError;
    expect(error.message).toContain('front matter opened on line 1 is never closed');
    expect(error.issues[0]).toMatchObject({ line: 1, column: 1 });
  });
});
