import { describe, expect, it } from 'vitest';
import type { ClusteredOutcome } from './bootstrap.js';
import { clusterBootstrapDifference, tInterval95 } from './cluster-statistics.js';

/** Items of two outcomes each (an item's two option orders), `hits` of them chosen both times. */
function items(count: number, hits: number, prefix: string): ClusteredOutcome[] {
  return Array.from({ length: count }, (_, index) => {
    const value = index < hits ? 1 : 0;
    return [
      { cluster: `${prefix}${index}`, value },
      { cluster: `${prefix}${index}`, value },
    ];
  }).flat();
}

describe('clusterBootstrapDifference', () => {
  it('finds a clear difference and excludes zero', () => {
    const estimate = clusterBootstrapDifference(items(20, 18, 't'), items(20, 4, 'c'), {
      seed: 3,
    });
    expect(estimate.estimate).toBeCloseTo(0.7);
    expect(estimate.lower).toBeGreaterThan(0.4);
    expect(estimate.upper).toBeLessThanOrEqual(1);
    expect(estimate.resamples).toBe(2000);
  });

  it('puts zero inside the interval for the same rate, and repeats exactly for a seed', () => {
    const a = clusterBootstrapDifference(items(20, 10, 't'), items(20, 10, 'c'), { seed: 5 });
    expect(a.estimate).toBe(0);
    expect(a.lower).toBeLessThan(0);
    expect(a.upper).toBeGreaterThan(0);
    expect(clusterBootstrapDifference(items(20, 10, 't'), items(20, 10, 'c'), { seed: 5 })).toEqual(
      a,
    );
  });

  it('is wider when outcomes are clustered than when the same outcomes are independent', () => {
    const clustered = clusterBootstrapDifference(items(10, 8, 't'), items(10, 2, 'c'));
    const independent = clusterBootstrapDifference(
      items(10, 8, 't').map((outcome, index) => ({ ...outcome, cluster: `t${index}` })),
      items(10, 2, 'c').map((outcome, index) => ({ ...outcome, cluster: `c${index}` })),
    );
    expect(clustered.upper - clustered.lower).toBeGreaterThan(
      independent.upper - independent.lower,
    );
  });
});

describe('tInterval95', () => {
  it("is Student's t interval of the mean", () => {
    const interval = tInterval95([1, 2, 3]);
    expect(interval.mean).toBe(2);
    expect(interval.lower).toBeCloseTo(2 - 4.303 / Math.sqrt(3), 6);
    expect(interval.upper).toBeCloseTo(2 + 4.303 / Math.sqrt(3), 6);
    expect(interval.n).toBe(3);
  });

  it('needs two values', () => {
    expect(() => tInterval95([0.5])).toThrow(/at least 2 values/);
  });
});
