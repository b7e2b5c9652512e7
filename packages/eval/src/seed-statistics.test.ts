import { describe, expect, it } from 'vitest';
import { clusterBootstrapMacro } from './bootstrap.js';
import { clusteredRate, detectableEffect, tInterval } from './seed-statistics.js';
import { studentTQuantile } from './special-functions.js';

const outcomes = (values: number[][]) =>
  values.flatMap((cluster, index) => cluster.map((value) => ({ cluster: `c${index}`, value })));

describe("Student's t quantile", () => {
  it('matches the published table', () => {
    // Two-sided 95 % and one-sided 80 % critical values (any t table, e.g. NIST/SEMATECH 1.3.6.7.2).
    const table: Array<[number, number, number]> = [
      [1, 12.706, 1.376],
      [2, 4.303, 1.061],
      [4, 2.776, 0.941],
      [9, 2.262, 0.883],
      [30, 2.042, 0.854],
    ];
    for (const [df, t975, t80] of table) {
      expect(studentTQuantile(0.975, df)).toBeCloseTo(t975, 3);
      expect(studentTQuantile(0.8, df)).toBeCloseTo(t80, 3);
      expect(studentTQuantile(0.025, df)).toBeCloseTo(-t975, 3);
    }
    expect(studentTQuantile(0.975, 1e6)).toBeCloseTo(1.959964, 4);
    expect(() => studentTQuantile(1, 3)).toThrow(RangeError);
  });
});

describe('clusteredRate', () => {
  it('gives an honest interval when every outcome is alike', () => {
    // 12 items × both orders, all 0: not certainty, Wilson over 12 clusters.
    const zeros = clusteredRate(outcomes(Array.from({ length: 12 }, () => [0, 0])), { seed: 1 });
    expect(zeros).toMatchObject({ rate: 0, lower: 0, n: 24 });
    expect(zeros.upper).toBeCloseTo(3.8415 / (12 + 3.8415), 3);
    const ones = clusteredRate(outcomes(Array.from({ length: 12 }, () => [1, 1])), { seed: 1 });
    expect(ones.upper).toBe(1);
    expect(ones.lower).toBeCloseTo(1 - zeros.upper, 6);
    expect(clusteredRate([]).n).toBe(0);
  });

  it('is the cluster bootstrap otherwise', () => {
    const values = outcomes(
      Array.from({ length: 40 }, (_, index) => (index % 4 === 0 ? [1, 1] : [0, 1])),
    );
    const mixed = clusteredRate(values, { seed: 3 });
    expect(mixed.rate).toBeCloseTo(0.625, 6);
    const bootstrap = clusterBootstrapMacro([values], { seed: 3 });
    expect([mixed.lower, mixed.upper]).toEqual([bootstrap.lower, bootstrap.upper]);
    expect(mixed.lower).toBeLessThan(0.625);
    expect(mixed.upper - mixed.lower).toBeLessThan(0.25);
  });
});

describe('tInterval and detectableEffect', () => {
  it('gives a t interval over paired units and the smallest effect detectable at 80 %', () => {
    const level = tInterval([0.1, 0.2, 0.0, 0.1, 0.1]);
    expect(level?.mean).toBeCloseTo(0.1, 10);
    expect(level?.sd).toBeCloseTo(Math.sqrt(0.02 / 4), 10);
    // t(0.975, 4) = 2.776: half-width 2.776 · sd / √5.
    const se = Math.sqrt(0.005) / Math.sqrt(5);
    expect(level?.lower).toBeCloseTo(0.1 - 2.776 * se, 3);
    expect(level?.upper).toBeCloseTo(0.1 + 2.776 * se, 3);
    // (t(0.975, 4) + t(0.80, 4)) · se = (2.776 + 0.941) · se.
    expect(detectableEffect({ standardError: se, degreesOfFreedom: 4 })).toBeCloseTo(
      (2.776 + 0.941) * se,
      3,
    );
    // Without degrees of freedom: the normal's (1.96 + 0.8416) · se.
    expect(detectableEffect({ standardError: 0.1 })).toBeCloseTo(0.28016, 4);
    expect(tInterval([0.3])).toBeUndefined();
    expect(detectableEffect({ standardError: Number.NaN })).toBeNaN();
    expect(() => tInterval([1, 2], 1.5)).toThrow(/confidence must be in \(0, 1\)/);
  });
});
