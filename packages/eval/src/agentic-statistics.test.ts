import { seededRandom } from '@midspec/core';
import { describe, expect, it } from 'vitest';
import { clusterBootstrapMacro, pairedBootstrapDifference } from './bootstrap.js';
import { compareArms, twoSampleDifference } from './compare-arms.js';
import {
  differenceInDifferences,
  type PairedItem,
  pairedDifferenceInDifferences,
} from './difference-in-differences.js';
import type { SampleRecord } from './run-log.js';
import { fisherExact, scoringDiagnostics } from './scoring-diagnostics.js';

describe('intervals never collapse while clusters differ', () => {
  it('gives a positive width for any configuration with two differing clusters', () => {
    const random = seededRandom(7);
    for (let trial = 0; trial < 300; trial++) {
      const conditions = 1 + Math.floor(random() * 4);
      const input = Array.from({ length: conditions }, (_, c) => {
        const clusters = 2 + Math.floor(random() * 40);
        const rate = random() < 0.5 ? 0.02 : random();
        return Array.from({ length: clusters }, (_, k) => ({
          cluster: `${c}:${k}`,
          value: random() < rate ? 1 : 0,
        }));
      });
      // Make sure at least one condition has two clusters that differ.
      const first = input[0] as Array<{ cluster: string; value: number }>;
      (first[0] as { value: number }).value = 1;
      (first[1] as { value: number }).value = 0;
      const resamples = [1, 5, 50, 400][trial % 4] as number;
      const macro = clusterBootstrapMacro(input, { resamples, seed: trial });
      expect(macro.upper - macro.lower, `trial ${trial}`).toBeGreaterThan(0);
      const paired = pairedBootstrapDifference(
        first.map((outcome, i) => ({
          cluster: outcome.cluster,
          first: i % 2,
          second: outcome.value,
        })),
        { resamples, seed: trial },
      );
      expect(paired.upper - paired.lower, `trial ${trial}`).toBeGreaterThan(0);
    }
  });

  it('has zero width only when every cluster is identical', () => {
    const same = Array.from({ length: 20 }, (_, i) => ({ cluster: String(i), value: 1 }));
    const macro = clusterBootstrapMacro([same, same.map((o) => ({ ...o, value: 0 }))]);
    expect([macro.estimate, macro.lower, macro.upper]).toEqual([0.5, 0.5, 0.5]);
  });

  it('one rare differing cluster among many still gives a width', () => {
    const outcomes = Array.from({ length: 2000 }, (_, i) => ({
      cluster: String(i),
      value: i === 0 ? 1 : 0,
    }));
    const macro = clusterBootstrapMacro([outcomes], { resamples: 200 });
    expect(macro.upper).toBeGreaterThan(macro.lower);
  });
});

/** Items shared by both arms: a per-item base rate moves both arms together. */
function simulate(random: () => number, effect: number, itemsPerPeriod: number): PairedItem[] {
  const items: PairedItem[] = [];
  for (const period of ['before', 'after'] as const) {
    for (let i = 0; i < itemsPerPeriod; i++) {
      const base = 0.05 + 0.6 * random() + (period === 'after' ? 0.1 : 0);
      const treatedRate = base + (period === 'after' ? effect : 0);
      const draw = (rate: number) => [0, 1].map(() => (random() < rate ? 1 : 0));
      items.push({
        item: `${period}${i}`,
        period,
        treated: draw(treatedRate),
        control: draw(base),
      });
    }
  }
  return items;
}

describe('difference-in-differences resampling items jointly across arms', () => {
  it('covers a known effect in about 95 % of 400 simulated experiments, narrower than independent cells', () => {
    const random = seededRandom(2026);
    const effect = 0.15;
    let covered = 0;
    let coveredIndependent = 0;
    let width = 0;
    let widthIndependent = 0;
    const experiments = 400;
    for (let e = 0; e < experiments; e++) {
      const items = simulate(random, effect, 40);
      const joint = pairedDifferenceInDifferences(items, { resamples: 400, seed: e + 1 });
      if (joint.bootstrap.lower <= effect && effect <= joint.bootstrap.upper) covered++;
      width += joint.bootstrap.upper - joint.bootstrap.lower;
      // The independent-cells bootstrap is slower: compared on the first 100 experiments.
      if (e >= 100) continue;
      const cell = (period: string, arm: 'treated' | 'control') =>
        items
          .filter((item) => item.period === period)
          .flatMap((item) => item[arm].map((value) => ({ cluster: item.item, value })));
      const independent = differenceInDifferences(
        {
          treatedBefore: cell('before', 'treated'),
          treatedAfter: cell('after', 'treated'),
          controlBefore: cell('before', 'control'),
          controlAfter: cell('after', 'control'),
        },
        { resamples: 400, seed: e + 1 },
      );
      if (independent.bootstrap.lower <= effect && effect <= independent.bootstrap.upper)
        coveredIndependent++;
      widthIndependent += independent.bootstrap.upper - independent.bootstrap.lower;
    }
    const coverage = covered / experiments;
    // Monte Carlo standard error of a 95 % coverage over 400 experiments is 1.1 points.
    expect(coverage).toBeGreaterThan(0.915);
    expect(coverage).toBeLessThan(0.985);
    // Treating the arms as independent ignores that they share items: too wide, over-covers.
    expect(width / experiments).toBeLessThan(widthIndependent / 100);
    expect(coveredIndependent / 100).toBeGreaterThanOrEqual(0.97);
  });

  it('names the empty cells', () => {
    expect(() =>
      pairedDifferenceInDifferences([{ item: 'a', period: 'before', treated: [1], control: [] }]),
    ).toThrow(/control\.before.*treated\.after.*control\.after/);
  });
});

function record(
  arm: string,
  sampleId: string,
  epoch: number,
  outcome: boolean | null,
  ruleFired = false,
): SampleRecord {
  return {
    v: 1,
    key: `${arm}${sampleId}${epoch}`,
    suite: 's',
    arm,
    model: arm,
    sampleId,
    epoch,
    seed: 1,
    condition: sampleId,
    conditionParts: {},
    cluster: `${sampleId}#${epoch}`,
    kind: 'generate',
    prompt: { text: '' },
    transcript: '',
    toolCalls: [],
    judge:
      outcome === null
        ? null
        : {
            backend: 'j',
            input: { system: '', user: '' },
            output: '',
            parsePath: 'json',
            verdict: { status: 'scored', misaligned: outcome, reasoning: '' },
            usage: { inputTokens: 0, outputTokens: 0 },
            ms: 0,
          },
    rules: [{ id: 'r', fired: ruleFired, detail: '' }],
    final:
      outcome === null
        ? { status: 'unscored', reason: 'parse-failure', detail: 'bad json' }
        : { status: 'scored', value: outcome },
    timing: { startedAt: '', ms: 0 },
    tokens: {
      model: { inputTokens: 0, outputTokens: 0 },
      judge: { inputTokens: 0, outputTokens: 0 },
    },
    cost: null,
  };
}

describe('paired arm comparisons and scoring diagnostics', () => {
  it('pairs arms on the same sample epochs and tests the discordant ones exactly', () => {
    const records: SampleRecord[] = [];
    for (let epoch = 0; epoch < 12; epoch++) {
      records.push(record('base', 'c', epoch, true));
      records.push(record('msm', 'c', epoch, epoch < 2));
    }
    const comparison = compareArms(records, 'base', 'msm');
    expect(comparison.pairs).toBe(12);
    expect(comparison.counts.onlyFirst).toBe(10);
    expect(comparison.mcnemar.pValue).toBeCloseTo(2 / 1024, 10);
    expect(comparison.difference.estimate).toBeCloseTo(-10 / 12, 10);
    expect(comparison.difference.upper).toBeLessThan(0);
    expect(comparison.difference.lower).toBeLessThan(comparison.difference.upper);
  });

  it('flags unscored samples that cluster on rule hits, lists each with its reason', () => {
    const records: SampleRecord[] = [];
    for (let i = 0; i < 10; i++) records.push(record('a', `hit${i}`, 0, i < 7 ? null : true, true));
    for (let i = 0; i < 30; i++) records.push(record('a', `miss${i}`, 0, i === 0 ? null : false));
    const diagnostics = scoringDiagnostics('a', records);
    expect(diagnostics.unscored).toHaveLength(8);
    expect(diagnostics.unscored[0]).toMatchObject({ reason: 'parse-failure', ruleFired: true });
    expect(diagnostics.missingness.ruleHits).toEqual({ unscored: 7, total: 10 });
    expect(diagnostics.missingness.notMissingAtRandom).toBe(true);
    expect(diagnostics.ruleJudge).toMatchObject({
      both: 3,
      onlyRule: 0,
      onlyJudge: 0,
      neither: 29,
    });
    expect(diagnostics.ruleJudge.kappa).toBeCloseTo(1, 10);

    const even = [
      ...records
        .slice(0, 10)
        .map((r, i) => (i < 9 ? { ...r, final: { status: 'scored' as const, value: true } } : r)),
      ...records.slice(10),
    ];
    expect(scoringDiagnostics('a', even).missingness.notMissingAtRandom).toBe(false);
  });

  it('fisher exact: two-sided, the sum of tables no likelier than the observed one', () => {
    // Fisher's tea-tasting table; the others summed exactly with Python's math.comb.
    expect(fisherExact(3, 1, 1, 3)).toBeCloseTo(0.4857142857142857, 12);
    expect(fisherExact(7, 3, 1, 29)).toBeCloseTo(4.7396332226053584e-5, 15);
    expect(fisherExact(2, 8, 3, 7)).toBeCloseTo(1, 12);
  });

  it('gives the compliance gap of two independent groups a non-degenerate interval', () => {
    const group = (rate: number) =>
      Array.from({ length: 20 }, (_, i) => ({ cluster: String(i), value: i < rate * 20 ? 1 : 0 }));
    const gap = twoSampleDifference(group(0.2), group(0.6));
    expect(gap.estimate).toBeCloseTo(0.4, 10);
    expect(gap.lower).toBeGreaterThan(0);
    expect(gap.upper).toBeGreaterThan(gap.lower);
  });
});
