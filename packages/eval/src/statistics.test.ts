import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clusterBootstrapMacro, pairedBootstrapDifference } from './bootstrap.js';
import { differenceInDifferences } from './difference-in-differences.js';
import { holmAdjust, mcnemarExact } from './paired-tests.js';
import { clopperPearsonInterval, wilsonInterval } from './proportion-intervals.js';
import { planSampleSize } from './sample-size.js';
import { betaQuantile, normalQuantile } from './special-functions.js';

// Produced by `python3 packages/eval/fixtures/statistics-reference.py` (scipy + statsmodels).
const reference = JSON.parse(
  readFileSync(new URL('../fixtures/statistics-reference.json', import.meta.url), 'utf8'),
);

const outcomes = (cluster: string, successes: number, trials: number) =>
  Array.from({ length: trials }, (_, i) => ({
    cluster: `${cluster}${i}`,
    value: i < successes ? 1 : 0,
  }));

describe('intervals against statsmodels', () => {
  it.each(reference.intervals as Array<Record<string, never>>)(
    'wilson and clopper-pearson for $successes/$trials at $confidence',
    ({ successes, trials, confidence, wilson, clopperPearson }) => {
      const w = wilsonInterval(successes, trials, confidence);
      expect(w.lower).toBeCloseTo((wilson as number[])[0] as number, 9);
      expect(w.upper).toBeCloseTo((wilson as number[])[1] as number, 9);
      const cp = clopperPearsonInterval(successes, trials, confidence);
      expect(cp.lower).toBeCloseTo((clopperPearson as number[])[0] as number, 9);
      expect(cp.upper).toBeCloseTo((clopperPearson as number[])[1] as number, 9);
    },
  );

  it('does not collapse at zero and gives [0, 1] with no trials', () => {
    expect(wilsonInterval(0, 50).upper).toBeGreaterThan(0.05);
    expect(wilsonInterval(0, 0)).toMatchObject({ lower: 0, upper: 1 });
    expect(Number.isNaN(clopperPearsonInterval(0, 0).rate)).toBe(true);
  });

  it('rejects impossible counts with every problem named', () => {
    expect(() => wilsonInterval(5, 3, 2)).toThrow(/successes.*confidence/);
  });

  it('matches scipy quantiles', () => {
    for (const { p, z } of reference.normalQuantiles) expect(normalQuantile(p)).toBeCloseTo(z, 9);
    for (const { p, a, b, x } of reference.betaQuantiles)
      expect(betaQuantile(p, a, b)).toBeCloseTo(x, 10);
  });
});

describe('paired tests against statsmodels', () => {
  it.each(reference.mcnemar as Array<{ onlyFirst: number; onlySecond: number; pValue: number }>)(
    'exact mcnemar b=$onlyFirst c=$onlySecond',
    ({ onlyFirst, onlySecond, pValue }) => {
      expect(mcnemarExact(onlyFirst, onlySecond).pValue).toBeCloseTo(pValue, 10);
    },
  );

  it('holm matches multipletests', () => {
    for (const { pValues, adjusted } of reference.holm) {
      const ours = holmAdjust(pValues);
      for (const [i, value] of ours.entries()) expect(value).toBeCloseTo(adjusted[i], 12);
    }
  });
});

describe('sample-size planner', () => {
  it('matches statsmodels samplesize_confint_proportion for the normal method', () => {
    for (const { expectedRate, width, confidence, normal } of reference.sampleSize) {
      expect(
        planSampleSize({ expectedRate, width, confidence, method: 'normal' }).samplesPerCondition,
      ).toBe(normal);
    }
  });

  it('finds the smallest n whose Wilson interval is narrow enough', () => {
    const plan = planSampleSize({ expectedRate: 0.1, width: 0.06 });
    expect(plan.achievedWidth).toBeLessThanOrEqual(0.06);
    const before = wilsonInterval(
      Math.round(0.1 * (plan.samplesPerCondition - 1)),
      plan.samplesPerCondition - 1,
    );
    expect(before.upper - before.lower).toBeGreaterThan(0.06);
  });
});

describe('bootstrap', () => {
  it('macro-averages conditions and is repeatable for a seed', () => {
    const conditions = [outcomes('a', 10, 100), outcomes('b', 50, 100)];
    const first = clusterBootstrapMacro(conditions, { seed: 7 });
    expect(first.estimate).toBeCloseTo(0.3, 12);
    expect(first.lower).toBeLessThan(0.3);
    expect(first.upper).toBeGreaterThan(0.3);
    expect(clusterBootstrapMacro(conditions, { seed: 7 })).toEqual(first);
    // Close to the analytic standard error of the mean of two independent rates.
    const se = Math.sqrt((0.1 * 0.9) / 100 + (0.5 * 0.5) / 100) / 2;
    expect(first.upper - first.lower).toBeGreaterThan(2 * 1.96 * se * 0.85);
    expect(first.upper - first.lower).toBeLessThan(2 * 1.96 * se * 1.15);
  });

  it('widens the interval when clusters are correlated', () => {
    // 20 clusters of 10 identical epochs vs 200 independent samples with the same rate.
    const clustered = Array.from({ length: 200 }, (_, i) => ({
      cluster: `c${Math.floor(i / 10)}`,
      value: i < 60 ? 1 : 0,
    }));
    const independent = clustered.map((o, i) => ({ ...o, cluster: `s${i}` }));
    const wide = clusterBootstrapMacro([clustered]);
    const narrow = clusterBootstrapMacro([independent]);
    expect(wide.upper - wide.lower).toBeGreaterThan(2 * (narrow.upper - narrow.lower));
  });

  it('paired difference is second minus first', () => {
    const pairs = Array.from({ length: 100 }, (_, i) => ({
      cluster: `${i}`,
      first: i < 40 ? 1 : 0,
      second: i < 20 ? 1 : 0,
    }));
    const result = pairedBootstrapDifference(pairs);
    expect(result.estimate).toBeCloseTo(-0.2, 12);
    expect(result.upper).toBeLessThan(0);
  });
});

describe('difference in differences', () => {
  it('matches the reference Wald interval', () => {
    const { cells, estimate, standardError, wald } = reference.differenceInDifferences;
    const input = Object.fromEntries(
      Object.entries(cells as Record<string, [number, number]>).map(([cell, [s, n]]) => [
        cell,
        outcomes(cell, s, n),
      ]),
    );
    const result = differenceInDifferences(input as never);
    expect(result.estimate).toBeCloseTo(estimate, 12);
    expect(result.wald.standardError).toBeCloseTo(standardError, 12);
    expect(result.wald.lower).toBeCloseTo(wald[0], 9);
    expect(result.wald.upper).toBeCloseTo(wald[1], 9);
    expect(result.bootstrap.lower).toBeLessThan(estimate);
    expect(result.bootstrap.upper).toBeGreaterThan(estimate);
  });

  it('names empty cells', () => {
    expect(() =>
      differenceInDifferences({
        treatedBefore: [],
        treatedAfter: [],
        controlBefore: outcomes('x', 1, 2),
        controlAfter: [],
      }),
    ).toThrow(/treatedBefore, treatedAfter, controlAfter/);
  });
});
