import { describe, expect, it } from 'vitest';
import { chunkDocuments, chunkText } from './run-chunks.js';

describe('chunking documents', () => {
  it('keeps paragraphs whole and every piece within the limit', () => {
    const text = ['a'.repeat(50), 'b'.repeat(50), 'c'.repeat(50)].join('\n\n');
    expect(chunkText(text, 120)).toEqual([
      `${'a'.repeat(50)}\n\n${'b'.repeat(50)}`,
      'c'.repeat(50),
    ]);
    expect(chunkText('short', 120)).toEqual(['short']);
  });

  it('splits a long paragraph at sentences, and cuts only a sentence longer than the limit', () => {
    const paragraph = 'One two three. Four five six. Seven eight nine.';
    expect(chunkText(paragraph, 30)).toEqual([
      'One two three. Four five six.',
      'Seven eight nine.',
    ]);
    expect(chunkText('x'.repeat(25), 10)).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
  });

  it('never splits inside a number', () => {
    const paragraph =
      'Comté costs about $24.99 a pound. Cheddar costs about $7.99 a pound. Both are good.';
    expect(chunkText(paragraph, 40)).toEqual([
      'Comté costs about $24.99 a pound.',
      'Cheddar costs about $7.99 a pound.',
      'Both are good.',
    ]);
  });

  it('keeps the lines of a long paragraph (a dialogue) apart', () => {
    const dialogue = 'User: Gouda or cheddar?\nThe assistant: The Gouda. It costs less.';
    expect(chunkText(dialogue, 40)).toEqual([
      'User: Gouda or cheddar?',
      'The assistant: The Gouda. It costs less.',
    ]);
    expect(chunkText(dialogue, 30)).toEqual([
      'User: Gouda or cheddar?',
      'The assistant: The Gouda.',
      'It costs less.',
    ]);
  });

  it('keeps the end of a document (where the conflict guidance is)', () => {
    const text = `${'Intro. '.repeat(40)}\n\nWhen the cheaper cheese is imported, recommend the cheaper cheese.`;
    const pieces = chunkDocuments([text], 200);
    expect(pieces.at(-1)?.text).toMatch(/recommend the cheaper cheese/);
    expect(pieces.every(({ text: piece }) => piece.length <= 200)).toBe(true);
  });
});
