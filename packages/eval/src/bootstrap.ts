import { seededRandom } from '@midspec/core';
import { EvaluationError } from './evaluation-error.js';
import { type Interval, zForConfidence } from './proportion-intervals.js';

export interface BootstrapOptions {
  /** Resamples (default 2000). */
  resamples?: number;
  /** Default 0.95. */
  confidence?: number;
  /** Default 1. */
  seed?: number;
}

/** An estimate with its percentile bootstrap interval. */
export interface BootstrapEstimate extends Interval {
  estimate: number;
  confidence: number;
  resamples: number;
}

/** One observation: its cluster (e.g. the scenario item, shared by its epochs) and its outcome. */
export interface ClusteredOutcome {
  cluster: string;
  value: number;
}

/** The q-quantile of sorted draws, interpolated linearly (NaN for none). */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.ceil(position);
  const low = sorted[below] as number;
  const high = sorted[above] as number;
  return low + (high - low) * (position - below);
}

function groupByCluster(outcomes: readonly ClusteredOutcome[]): number[][] {
  const groups = new Map<string, number[]>();
  for (const { cluster, value } of outcomes) {
    const group = groups.get(cluster) ?? [];
    group.push(value);
    groups.set(cluster, group);
  }
  return [...groups.values()];
}

function meanOfClusters(clusters: number[][], pick: (index: number) => number): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < clusters.length; i++) {
    const cluster = clusters[pick(i)] as number[];
    for (const value of cluster) sum += value;
    count += cluster.length;
  }
  return count === 0 ? Number.NaN : sum / count;
}

function finish(estimate: number, draws: number[], confidence: number): BootstrapEstimate {
  const sorted = draws.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  const alpha = 1 - confidence;
  return {
    estimate,
    lower: percentile(sorted, alpha / 2),
    upper: percentile(sorted, 1 - alpha / 2),
    confidence,
    resamples: draws.length,
  };
}

/**
 * A percentile interval can come out zero-width even though clusters differ (few resamples, or one
 * rare differing cluster left out of every draw at the quantiles). Then the normal interval from the
 * clusters' standard error is used instead, clipped to the range of the cluster means: it has zero
 * width only when every cluster (within every group) is identical.
 */
function widenIfDegenerate(
  result: BootstrapEstimate,
  groups: ReadonlyArray<readonly number[]>,
  weight: number,
): BootstrapEstimate {
  if (result.upper > result.lower) return result;
  let variance = 0;
  let low = 0;
  let high = 0;
  for (const means of groups) {
    const mean = means.reduce((sum, value) => sum + value, 0) / means.length;
    // Divides by n, not n − 1: a single cluster carries no spread to estimate.
    variance += means.reduce((sum, value) => sum + (value - mean) ** 2, 0) / means.length ** 2;
    low += Math.min(...means);
    high += Math.max(...means);
  }
  if (variance === 0) return result;
  const half = zForConfidence(result.confidence) * Math.sqrt(variance) * weight;
  return {
    ...result,
    lower: Math.max(low * weight, result.estimate - half),
    upper: Math.min(high * weight, result.estimate + half),
  };
}

const clusterMeans = (clusters: number[][]) =>
  clusters.map((cluster) => cluster.reduce((sum, value) => sum + value, 0) / cluster.length);

function settings(options: BootstrapOptions): Required<BootstrapOptions> {
  const resamples = options.resamples ?? 2000;
  const confidence = options.confidence ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1 || !(confidence > 0 && confidence < 1)) {
    throw new EvaluationError({
      code: 'eval/invalid-argument',
      message: `bootstrap: resamples must be a whole number ≥ 1 and confidence in (0, 1), got ${resamples} and ${confidence}`,
    });
  }
  return { resamples, confidence, seed: options.seed ?? 1 };
}

/**
 * Macro average over conditions (the unweighted mean of per-condition rates) with a cluster-bootstrap
 * interval: within each condition whole clusters are resampled, so correlated samples (epochs of one
 * item) are never treated as independent evidence.
 */
export function clusterBootstrapMacro(
  conditions: ReadonlyArray<readonly ClusteredOutcome[]>,
  options: BootstrapOptions = {},
): BootstrapEstimate {
  const { resamples, confidence, seed } = settings(options);
  const grouped = conditions.map(groupByCluster).filter((clusters) => clusters.length > 0);
  const macro = (pickers: Array<(index: number) => number>) =>
    grouped.reduce((sum, clusters, i) => sum + meanOfClusters(clusters, pickers[i] as never), 0) /
    grouped.length;
  const estimate = macro(grouped.map(() => (index: number) => index));
  const random = seededRandom(seed);
  const draws: number[] = [];
  for (let r = 0; r < resamples; r++) {
    draws.push(macro(grouped.map((clusters) => () => Math.floor(random() * clusters.length))));
  }
  return widenIfDegenerate(
    finish(estimate, draws, confidence),
    grouped.map(clusterMeans),
    1 / grouped.length,
  );
}

/** A unit observed under both models: e.g. one sample id and epoch, with its cluster. */
export interface PairedOutcome {
  cluster: string;
  first: number;
  second: number;
}

/**
 * Paired bootstrap interval of mean(second) − mean(first): clusters of pairs are resampled together,
 * keeping each model's outcomes on the same samples side by side.
 */
export function pairedBootstrapDifference(
  pairs: readonly PairedOutcome[],
  options: BootstrapOptions = {},
): BootstrapEstimate {
  const { resamples, confidence, seed } = settings(options);
  const differences = groupByCluster(
    pairs.map(({ cluster, first, second }) => ({ cluster, value: second - first })),
  );
  const estimate = meanOfClusters(differences, (index) => index);
  const random = seededRandom(seed);
  const draws: number[] = [];
  for (let r = 0; r < resamples; r++) {
    draws.push(meanOfClusters(differences, () => Math.floor(random() * differences.length)));
  }
  return widenIfDegenerate(finish(estimate, draws, confidence), [clusterMeans(differences)], 1);
}
