import { EvaluationError } from './evaluation-error.js';
import { betaQuantile, normalQuantile } from './special-functions.js';

/** A two-sided confidence interval. */
export interface Interval {
  lower: number;
  upper: number;
}

/** A rate with its interval. */
export interface RateEstimate extends Interval {
  successes: number;
  trials: number;
  /** successes / trials; NaN when there are no trials. */
  rate: number;
  confidence: number;
  method: 'wilson' | 'clopper-pearson';
}

function checkCounts(name: string, successes: number, trials: number, confidence: number): void {
  const problems: string[] = [];
  if (!Number.isInteger(trials) || trials < 0)
    problems.push(`trials must be a whole number ≥ 0, got ${trials}`);
  if (!Number.isInteger(successes) || successes < 0 || successes > trials) {
    problems.push(`successes must be a whole number in [0, trials], got ${successes}`);
  }
  if (!(confidence > 0 && confidence < 1))
    problems.push(`confidence must be in (0, 1), got ${confidence}`);
  if (problems.length > 0) {
    throw new EvaluationError({
      code: 'eval/invalid-argument',
      message: `${name}: ${problems.join('; ')}`,
    });
  }
}

/** The z value of a two-sided interval at `confidence` (1.959964… at 0.95). */
export function zForConfidence(confidence: number): number {
  return normalQuantile(1 - (1 - confidence) / 2);
}

/**
 * Wilson score interval. Unlike the Wald interval it does not collapse to [0, 0] when no successes are
 * seen, which is the usual case for rare misbehaviour. No trials gives [0, 1].
 */
export function wilsonInterval(successes: number, trials: number, confidence = 0.95): RateEstimate {
  checkCounts('wilsonInterval', successes, trials, confidence);
  const base = { successes, trials, confidence, method: 'wilson' as const };
  if (trials === 0) return { ...base, rate: Number.NaN, lower: 0, upper: 1 };
  const z = zForConfidence(confidence);
  const z2 = z * z;
  const denominator = trials + z2;
  const center = (successes + z2 / 2) / denominator;
  const half = (z * Math.sqrt((successes * (trials - successes)) / trials + z2 / 4)) / denominator;
  return {
    ...base,
    rate: successes / trials,
    lower: Math.max(0, center - half),
    upper: Math.min(1, center + half),
  };
}

/** Clopper-Pearson ("exact") interval from Beta quantiles; conservative. No trials gives [0, 1]. */
export function clopperPearsonInterval(
  successes: number,
  trials: number,
  confidence = 0.95,
): RateEstimate {
  checkCounts('clopperPearsonInterval', successes, trials, confidence);
  const base = { successes, trials, confidence, method: 'clopper-pearson' as const };
  if (trials === 0) return { ...base, rate: Number.NaN, lower: 0, upper: 1 };
  const alpha = 1 - confidence;
  const lower = successes === 0 ? 0 : betaQuantile(alpha / 2, successes, trials - successes + 1);
  const upper =
    successes === trials ? 1 : betaQuantile(1 - alpha / 2, successes + 1, trials - successes);
  return { ...base, rate: successes / trials, lower, upper };
}
