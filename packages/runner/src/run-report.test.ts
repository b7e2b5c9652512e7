import { describe, expect, it } from 'vitest';
import { bootstrapMean, detectableOverSeeds, overSeeds } from './run-report.js';

const outcomes = (values: number[][]) =>
  values.flatMap((cluster, index) => cluster.map((value) => ({ cluster: `c${index}`, value })));

describe('bootstrapMean', () => {
  it('gives an honest interval when every outcome is alike', () => {
    // 12 items × both orders, all 0: not certainty, Wilson over 12 clusters.
    const zeros = bootstrapMean(outcomes(Array.from({ length: 12 }, () => [0, 0])), 1);
    expect(zeros.rate).toBe(0);
    expect(zeros.lower).toBe(0);
    expect(zeros.upper).toBeCloseTo(3.8415 / (12 + 3.8415), 3);
    const ones = bootstrapMean(outcomes(Array.from({ length: 12 }, () => [1, 1])), 1);
    expect(ones.upper).toBe(1);
    expect(ones.lower).toBeCloseTo(1 - zeros.upper, 6);
  });

  it('resamples clusters otherwise', () => {
    const mixed = bootstrapMean(
      outcomes(Array.from({ length: 40 }, (_, index) => (index % 4 === 0 ? [1, 1] : [0, 1]))),
      3,
    );
    expect(mixed.rate).toBeCloseTo(0.625, 6);
    expect(mixed.lower).toBeLessThan(0.625);
    expect(mixed.upper).toBeGreaterThan(0.625);
    expect(mixed.upper - mixed.lower).toBeLessThan(0.25);
  });
});

describe('overSeeds and the detectable effect', () => {
  it('gives a t interval over paired seeds and the smallest effect detectable at 80 %', () => {
    const level = overSeeds([0.1, 0.2, 0.0, 0.1, 0.1]);
    expect(level?.rate).toBeCloseTo(0.1, 10);
    expect(level?.sd).toBeCloseTo(Math.sqrt(0.02 / 4), 10);
    // t(0.975, 4) = 2.776: half-width 2.776 · sd / √5.
    const half = (2.776 * Math.sqrt(0.005)) / Math.sqrt(5);
    expect(level?.lower).toBeCloseTo(0.1 - half, 6);
    expect(level?.excludesZero).toBe(true);
    // (t(0.975, 4) + t(0.80, 4)) · sd / √n = (2.776 + 0.941) · 0.0707 / 2.236.
    expect(detectableOverSeeds(level)).toBeCloseTo(
      ((2.776 + 0.941) * Math.sqrt(0.005)) / Math.sqrt(5),
      6,
    );
    expect(overSeeds([0.3])).toBeUndefined();
    expect(detectableOverSeeds(undefined)).toBeNaN();
  });
});
