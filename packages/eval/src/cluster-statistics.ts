import { seededRandom } from '@midspec/core';
import {
  type BootstrapEstimate,
  type BootstrapOptions,
  type ClusteredOutcome,
  finish,
  groupByCluster,
  meanOfClusters,
  settings,
} from './bootstrap.js';
import { EvaluationError } from './evaluation-error.js';
import type { Interval } from './proportion-intervals.js';

/**
 * mean(treated) − mean(control) for two independent groups (two models on the same items), with a
 * cluster-bootstrap interval: whole clusters are resampled within each group, so the outcomes of one
 * item (its two option orders, its epochs) never count as independent evidence.
 */
export function clusterBootstrapDifference(
  treated: readonly ClusteredOutcome[],
  control: readonly ClusteredOutcome[],
  options: BootstrapOptions = {},
): BootstrapEstimate {
  const { resamples, confidence, seed } = settings(options);
  const a = groupByCluster(treated);
  const b = groupByCluster(control);
  const estimate = meanOfClusters(a, (index) => index) - meanOfClusters(b, (index) => index);
  const random = seededRandom(seed);
  const draws: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const first = meanOfClusters(a, () => Math.floor(random() * a.length));
    draws.push(first - meanOfClusters(b, () => Math.floor(random() * b.length)));
  }
  return finish(estimate, draws, confidence);
}

// Two-sided 97.5 % quantiles of Student's t for 1…30 degrees of freedom; beyond, the normal's 1.96.
const T_975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145,
  2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048,
  2.045, 2.042,
];

/**
 * The mean of a few values (e.g. one difference per training seed) with its 95 % Student t interval:
 * the honest interval when seeds differ more than items do, which an item-level bootstrap cannot see.
 */
export function tInterval95(values: readonly number[]): Interval & { mean: number; n: number } {
  const n = values.length;
  if (n < 2) {
    throw new EvaluationError({
      code: 'eval/invalid-argument',
      message: `a t interval needs at least 2 values, got ${n}`,
    });
  }
  const mean = values.reduce((sum, value) => sum + value, 0) / n;
  const sd = Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (n - 1));
  const half = (T_975[n - 2] ?? 1.96) * (sd / Math.sqrt(n));
  return { mean, lower: mean - half, upper: mean + half, n };
}
