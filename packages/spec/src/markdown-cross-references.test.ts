import { describe, expect, it } from 'vitest';
import { parseSpec } from './load-spec.js';
import { renderMarkdown } from './render-markdown.js';

describe('`[?](#id)` cross-references', () => {
  it("show the target section's title, leave unknown ids and transcripts as written", () => {
    const text = [
      '# Spec',
      '',
      '## Be kind {#be_kind authority=user}',
      '',
      'Be kind; see [?](#be_brief) and [?](#nowhere).',
      '',
      '- Follow [?](#be_brief) here too.',
      '',
      '**Example**: a kind answer',
      '',
      '~~~xml',
      '<user>',
      'What does [?](#be_brief) say?',
      '</user>',
      '<assistant>',
      'It says to be brief.',
      '</assistant>',
      '~~~',
      '',
      '## Be brief {#be_brief authority=guideline}',
      '',
      'Answer in few words.',
      '',
    ].join('\n');
    const { spec } = parseSpec(text, { format: 'markdown' });
    const [kind] = spec.principles;
    expect(kind?.statement).toBe('Be kind; see [Be brief](#be_brief) and [?](#nowhere).');
    expect(kind?.subRules).toEqual(['Follow [Be brief](#be_brief) here too.']);
    expect(kind?.examples[0]?.transcript?.[0]?.content).toBe('What does [?](#be_brief) say?');
    const again = parseSpec(renderMarkdown(spec), { format: 'markdown' }).spec;
    expect(again.principles).toEqual(spec.principles);
  });
});
