import { seededRandom } from '@midspec/core';
import type { BootstrapEstimate, BootstrapOptions, ClusteredOutcome } from './bootstrap.js';
import { EvaluationError } from './evaluation-error.js';
import { type Interval, zForConfidence } from './proportion-intervals.js';

/** The four cells: each arm under the reference condition and under the condition of interest. */
export interface DifferenceInDifferencesInput {
  treatedBefore: readonly ClusteredOutcome[];
  treatedAfter: readonly ClusteredOutcome[];
  controlBefore: readonly ClusteredOutcome[];
  controlAfter: readonly ClusteredOutcome[];
}

export interface DifferenceInDifferencesResult {
  /** (treatedAfter − treatedBefore) − (controlAfter − controlBefore). */
  estimate: number;
  /** Normal interval from the four cells' binomial variances (cells independent). */
  wald: Interval & { standardError: number };
  /** Cluster-bootstrap percentile interval (clusters resampled within each cell). */
  bootstrap: BootstrapEstimate;
}

const CELLS = ['treatedBefore', 'treatedAfter', 'controlBefore', 'controlAfter'] as const;

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/**
 * Difference-in-differences between two arms across two conditions, e.g. how much more an MSM arm
 * moves than the AFT-only arm from training domains to held-out domains.
 */
export function differenceInDifferences(
  input: DifferenceInDifferencesInput,
  options: BootstrapOptions = {},
): DifferenceInDifferencesResult {
  const empty = CELLS.filter((cell) => input[cell].length === 0);
  if (empty.length > 0) {
    throw new EvaluationError({
      code: 'eval/invalid-argument',
      message: `differenceInDifferences: every cell needs outcomes; empty: ${empty.join(', ')}`,
      issues: empty.map((path) => ({ path, message: 'no outcomes' })),
    });
  }
  const confidence = options.confidence ?? 0.95;
  const combine = (m: Record<(typeof CELLS)[number], number>) =>
    m.treatedAfter - m.treatedBefore - (m.controlAfter - m.controlBefore);
  const means = Object.fromEntries(
    CELLS.map((cell) => [cell, mean(input[cell].map((o) => o.value))]),
  ) as Record<(typeof CELLS)[number], number>;
  const estimate = combine(means);
  const variance = CELLS.reduce((sum, cell) => {
    const p = means[cell];
    return sum + (p * (1 - p)) / input[cell].length;
  }, 0);
  const standardError = Math.sqrt(variance);
  const z = zForConfidence(confidence);

  const clusters = Object.fromEntries(
    CELLS.map((cell) => {
      const groups = new Map<string, number[]>();
      for (const { cluster, value } of input[cell]) {
        groups.set(cluster, [...(groups.get(cluster) ?? []), value]);
      }
      return [cell, [...groups.values()]];
    }),
  ) as Record<(typeof CELLS)[number], number[][]>;
  const resamples = options.resamples ?? 2000;
  const random = seededRandom(options.seed ?? 1);
  const draws: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const drawn = Object.fromEntries(
      CELLS.map((cell) => {
        const groups = clusters[cell];
        let sum = 0;
        let count = 0;
        for (let i = 0; i < groups.length; i++) {
          const group = groups[Math.floor(random() * groups.length)] as number[];
          for (const value of group) sum += value;
          count += group.length;
        }
        return [cell, sum / count];
      }),
    ) as Record<(typeof CELLS)[number], number>;
    draws.push(combine(drawn));
  }
  draws.sort((a, b) => a - b);
  const at = (q: number) =>
    draws[Math.min(draws.length - 1, Math.floor(q * draws.length))] as number;
  const alpha = 1 - confidence;
  return {
    estimate,
    wald: {
      lower: estimate - z * standardError,
      upper: estimate + z * standardError,
      standardError,
    },
    bootstrap: { estimate, lower: at(alpha / 2), upper: at(1 - alpha / 2), confidence, resamples },
  };
}
