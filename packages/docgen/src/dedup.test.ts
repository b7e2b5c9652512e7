import { describe, expect, it } from 'vitest';
import { Deduplicator } from './dedup.js';

const config = { nearThreshold: 0.8, shingleWords: 5, permutations: 128 };
const words = (seed: number, count: number) =>
  Array.from({ length: count }, (_, i) => `w${(i * 7919 + seed * 104729) % 5003}`).join(' ');

describe('Deduplicator', () => {
  it('drops exact duplicates (case and whitespace ignored) and near duplicates, keeping the first', () => {
    const dedup = new Deduplicator(config);
    const text = words(1, 300);
    expect(dedup.offer('a', text)).toBeUndefined();
    expect(dedup.offer('b', `  ${text.toUpperCase()} `)).toMatchObject({
      reason: 'exact-duplicate',
      duplicateOf: 'a',
    });
    const near = text.split(' ');
    near[150] = 'changed';
    expect(dedup.offer('c', near.join(' '))).toMatchObject({
      reason: 'near-duplicate',
      duplicateOf: 'a',
    });
    expect(dedup.offer('d', words(2, 300))).toBeUndefined();
  });

  it('honours the threshold', () => {
    const half = [...words(1, 100).split(' '), ...words(3, 100).split(' ')].join(' ');
    const strict = new Deduplicator(config);
    strict.offer('a', words(1, 200));
    expect(strict.offer('b', half)).toBeUndefined();
    const loose = new Deduplicator({ ...config, nearThreshold: 0.2 });
    loose.offer('a', words(1, 200));
    expect(loose.offer('b', half)?.reason).toBe('near-duplicate');
  });
});
