import { EvaluationError } from './evaluation-error.js';
import { binomialCdf } from './special-functions.js';

export interface McNemarResult {
  /** Pairs where only the first model had the outcome. */
  onlyFirst: number;
  /** Pairs where only the second model had the outcome. */
  onlySecond: number;
  /** Two-sided exact p-value (twice the smaller binomial tail at ½, capped at 1). */
  pValue: number;
  method: 'exact';
}

/**
 * Exact McNemar test on the discordant counts b (only the first) and c (only the second), as
 * statsmodels' `mcnemar(table, exact=True)`. Exact at every count; the chi-square approximation is
 * never needed because the binomial tail is summed in log space.
 */
export function mcnemarExact(onlyFirst: number, onlySecond: number): McNemarResult {
  for (const [name, value] of [
    ['onlyFirst', onlyFirst],
    ['onlySecond', onlySecond],
  ] as const) {
    if (!Number.isInteger(value) || value < 0) {
      throw new EvaluationError({
        code: 'eval/invalid-argument',
        message: `mcnemarExact: ${name} must be a whole number ≥ 0, got ${value}`,
      });
    }
  }
  const n = onlyFirst + onlySecond;
  const pValue =
    n === 0 ? 1 : Math.min(1, 2 * binomialCdf(Math.min(onlyFirst, onlySecond), n, 0.5));
  return { onlyFirst, onlySecond, pValue, method: 'exact' };
}

/** Holm's step-down adjustment of p-values (family-wise error), returned in the input order. */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, index) => ({ p, index })).sort((a, b) => a.p - b.p);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, index }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[index] = running;
  });
  return adjusted;
}

/** Counts of the four cells of a paired binary comparison. */
export function pairedCounts(pairs: ReadonlyArray<readonly [boolean, boolean]>): {
  both: number;
  onlyFirst: number;
  onlySecond: number;
  neither: number;
} {
  const counts = { both: 0, onlyFirst: 0, onlySecond: 0, neither: 0 };
  for (const [first, second] of pairs) {
    if (first && second) counts.both++;
    else if (first) counts.onlyFirst++;
    else if (second) counts.onlySecond++;
    else counts.neither++;
  }
  return counts;
}
