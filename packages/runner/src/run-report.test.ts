import { describe, expect, it } from 'vitest';
import { pooledRate } from './run-report.js';

const outcomes = (values: number[][]) =>
  values.flatMap((cluster, index) => cluster.map((value) => ({ cluster: `c${index}`, value })));

describe('pooledRate', () => {
  it('gives an honest interval when every outcome is alike', () => {
    // 12 items × both orders, all 0: not certainty, Wilson over 12 clusters.
    const zeros = pooledRate(outcomes(Array.from({ length: 12 }, () => [0, 0])), 1);
    expect(zeros.rate).toBe(0);
    expect(zeros.lower).toBe(0);
    expect(zeros.upper).toBeCloseTo(3.8415 / (12 + 3.8415), 3);
    const ones = pooledRate(outcomes(Array.from({ length: 12 }, () => [1, 1])), 1);
    expect(ones.upper).toBe(1);
    expect(ones.lower).toBeCloseTo(1 - zeros.upper, 6);
  });

  it('resamples clusters otherwise', () => {
    const mixed = pooledRate(
      outcomes(Array.from({ length: 40 }, (_, index) => (index % 4 === 0 ? [1, 1] : [0, 1]))),
      3,
    );
    expect(mixed.rate).toBeCloseTo(0.625, 6);
    expect(mixed.lower).toBeLessThan(0.625);
    expect(mixed.upper).toBeGreaterThan(0.625);
    expect(mixed.upper - mixed.lower).toBeLessThan(0.25);
  });
});
