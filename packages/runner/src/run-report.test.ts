import { seededRandom } from '@midspec/core';
import { clusteredRate, detectableEffect, tInterval } from '@midspec/eval';
import { describe, expect, it } from 'vitest';
import type { RunConfig } from './run-config.js';
import { type ReportRecord, summarizeSuite } from './run-report.js';

/** Two arms × three seeds, 10 held-out items × both orders, each arm at its own rate per seed. */
function records(rates: Record<string, number[]>) {
  const random = seededRandom(5);
  const found: ReportRecord[] = [];
  const models: Array<{ name: string; arm: string; seed: number; model: string }> = [];
  for (const [arm, perSeed] of Object.entries(rates))
    perSeed.forEach((rate, seed) => {
      const name = `${arm}/seed-${seed}`;
      models.push({ name, arm, seed, model: name });
      for (let item = 0; item < 10; item++)
        for (const order of [0, 1])
          found.push({
            arm: name,
            sampleId: `i${item}@${order}`,
            epoch: 0,
            condition: 'held-out',
            conditionParts: { split: 'held-out' },
            cluster: `i${item}`,
            final: { status: 'scored', value: random() < rate },
          });
    });
  return { found, models };
}

const config = {
  name: 'x',
  arms: [
    { name: 'treated', stages: [{}] },
    { name: 'control', stages: [{}] },
  ],
  report: {
    rateName: 'rate',
    contrasts: [{ treated: 'treated', control: 'control', before: 'training', after: 'held-out' }],
  },
} as unknown as RunConfig;

describe("the experiment report's statistics are @midspec/eval's", () => {
  it('pools each arm with the cluster bootstrap and compares seeds with the t interval', () => {
    const { found, models } = records({ treated: [0.9, 0.6, 0.8], control: [0.3, 0.5, 0.2] });
    const report = summarizeSuite('s', 'dir', found, models, config);
    const treated = report.arms[0];
    const outcomes = found
      .filter((record) => record.arm.startsWith('treated/') && record.final.status === 'scored')
      .map((record) => ({
        cluster: `${record.arm.split('seed-')[1]}:${record.cluster}`,
        value: record.final.status === 'scored' && record.final.value ? 1 : 0,
      }));
    // The first arm's first split: seed 1 (see the report's seeds by arm and split).
    expect(treated?.splits['held-out']).toEqual(
      clusteredRate(outcomes, { resamples: 2000, seed: 1 }),
    );
    const contrast = report.contrasts[0];
    const perSeed = contrast?.seedLevel?.perSeed as number[];
    expect(perSeed).toHaveLength(3);
    const level = tInterval(perSeed);
    expect(contrast?.seedLevel).toMatchObject({
      rate: level?.mean,
      lower: level?.lower,
      upper: level?.upper,
      sd: level?.sd,
      n: 3,
    });
    expect(contrast?.detectable.overSeeds).toBeCloseTo(
      detectableEffect({ standardError: (level?.sd ?? 0) / Math.sqrt(3), degreesOfFreedom: 2 }),
      12,
    );
  });

  it('an arm whose every outcome is alike gets Wilson over its clusters, not [0, 0]', () => {
    const { found, models } = records({ treated: [1, 1, 1], control: [0, 0, 0] });
    const control = summarizeSuite('s', 'dir', found, models, config).arms[1];
    expect(control?.splits['held-out']).toMatchObject({ rate: 0, lower: 0, n: 60 });
    // 30 clusters (10 items × 3 seeds): Wilson's upper bound 3.84 / (30 + 3.84).
    expect(control?.splits['held-out']?.upper).toBeCloseTo(3.8415 / (30 + 3.8415), 3);
  });
});
