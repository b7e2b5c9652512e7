import { seededRandom } from '@midspec/core';
import {
  type BootstrapEstimate,
  type BootstrapOptions,
  type ClusteredOutcome,
  percentile,
} from './bootstrap.js';
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

/**
 * One item (a scenario instance × sample, an item × seed...) observed under both arms: the arms share
 * it, so its outcomes move together and are resampled together.
 */
export interface PairedItem {
  item: string;
  period: 'before' | 'after';
  /** The treated arm's outcomes on this item (empty when unscored there). */
  treated: readonly number[];
  control: readonly number[];
}

export interface PairedDifferenceInDifferencesResult {
  /** (treatedAfter − treatedBefore) − (controlAfter − controlBefore). */
  estimate: number;
  /** Percentile interval; items resampled within each period, each carrying both arms. */
  bootstrap: BootstrapEstimate;
  /** Items in each period. */
  items: { before: number; after: number };
}

/** Per item of one period: sums and counts of each arm's outcomes, [treated, control]. */
function itemTotals(items: readonly PairedItem[]): Float64Array[] {
  return items.map((item) => {
    const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);
    return Float64Array.of(
      sum(item.treated),
      item.treated.length,
      sum(item.control),
      item.control.length,
    );
  });
}

/** treated mean − control mean of one period over a draw of its items (null: all items). */
function periodDifference(totals: readonly Float64Array[], random: (() => number) | null): number {
  let treatedSum = 0;
  let treatedCount = 0;
  let controlSum = 0;
  let controlCount = 0;
  for (let i = 0; i < totals.length; i++) {
    const row = totals[random ? Math.floor(random() * totals.length) : i] as Float64Array;
    treatedSum += row[0] as number;
    treatedCount += row[1] as number;
    controlSum += row[2] as number;
    controlCount += row[3] as number;
  }
  return treatedCount === 0 || controlCount === 0
    ? Number.NaN
    : treatedSum / treatedCount - controlSum / controlCount;
}

/**
 * Difference-in-differences whose bootstrap resamples items jointly across arms: an item drawn
 * brings both arms' outcomes on it, so the correlation between arms on shared items (an easy item is
 * easy for both) is kept instead of being treated as independent noise. Items are resampled within
 * each period (the before and after conditions are different items), a stratified bootstrap.
 */
export function pairedDifferenceInDifferences(
  items: readonly PairedItem[],
  options: BootstrapOptions = {},
): PairedDifferenceInDifferencesResult {
  const before = items.filter((item) => item.period === 'before');
  const after = items.filter((item) => item.period === 'after');
  const problems: Array<{ path: string; message: string }> = [];
  for (const [name, group] of [
    ['before', before],
    ['after', after],
  ] as const) {
    for (const arm of ['treated', 'control'] as const) {
      if (!group.some((item) => item[arm].length > 0))
        problems.push({ path: `${arm}.${name}`, message: 'no outcomes' });
    }
  }
  if (problems.length > 0) {
    throw new EvaluationError({
      code: 'eval/invalid-argument',
      message: `pairedDifferenceInDifferences: every arm needs outcomes in both periods; empty: ${problems.map((p) => p.path).join(', ')}`,
      issues: problems,
    });
  }
  const confidence = options.confidence ?? 0.95;
  const resamples = options.resamples ?? 2000;
  const beforeTotals = itemTotals(before);
  const afterTotals = itemTotals(after);
  // (treatedAfter − controlAfter) − (treatedBefore − controlBefore): the same DiD, regrouped.
  const estimate = periodDifference(afterTotals, null) - periodDifference(beforeTotals, null);
  const random = seededRandom(options.seed ?? 1);
  const draws: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const value = periodDifference(afterTotals, random) - periodDifference(beforeTotals, random);
    // A draw that left an arm without outcomes in a period is skipped, not counted as zero.
    if (!Number.isNaN(value)) draws.push(value);
  }
  draws.sort((x, y) => x - y);
  const at = (q: number) => percentile(draws, q);
  const alpha = 1 - confidence;
  return {
    estimate,
    bootstrap: {
      estimate,
      lower: at(alpha / 2),
      upper: at(1 - alpha / 2),
      confidence,
      resamples,
    },
    items: { before: before.length, after: after.length },
  };
}
