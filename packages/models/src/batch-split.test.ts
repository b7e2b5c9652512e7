import { describe, expect, it } from 'vitest';
import { splitBatch } from './batch-split.js';

const item = (index: number) => ({
  customId: `i${index}`,
  request: {
    messages: [{ role: 'user' as const, content: 'x'.repeat(index) }],
    temperature: 0,
    maxTokens: 1,
  },
});

describe('splitBatch', () => {
  it('cuts at the request limit and at the byte limit, in order', () => {
    const items = Array.from({ length: 7 }, (_, index) => item(index));
    expect(
      splitBatch(items, { maxRequests: 3, maxBytes: 1e9 }, () => 1).map((part) => part.length),
    ).toEqual([3, 3, 1]);
    const bySize = splitBatch(
      items,
      { maxRequests: 100, maxBytes: 10 },
      (entry) => entry.request.messages[0]?.content.length ?? 0,
    );
    expect(bySize.map((part) => part.map((entry) => entry.customId))).toEqual([
      ['i0', 'i1', 'i2', 'i3', 'i4'],
      ['i5'],
      ['i6'],
    ]);
  });

  it('names a request too large for any batch', () => {
    expect(() => splitBatch([item(20)], { maxRequests: 10, maxBytes: 10 }, () => 20)).toThrow(
      /request i20 is 20 bytes, over the batch limit of 10/,
    );
  });
});
