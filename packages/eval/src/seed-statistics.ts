import {
  type BootstrapOptions,
  type ClusteredOutcome,
  clusterBootstrapMacro,
} from './bootstrap.js';
import { EvaluationError } from './evaluation-error.js';
import { wilsonInterval } from './proportion-intervals.js';
import { normalQuantile, studentTQuantile } from './special-functions.js';

/** A rate of 0/1 outcomes with its interval and the number of outcomes. */
export interface ClusteredRate {
  rate: number;
  lower: number;
  upper: number;
  n: number;
}

/**
 * The rate of 0/1 outcomes with a cluster-bootstrap interval (whole clusters resampled, so an
 * item's two orders or a model's seeds are not counted as independent evidence). When every outcome
 * is alike the bootstrap has no spread to show and [0, 0] would claim certainty: then Wilson's
 * interval with the clusters as the sample size.
 */
export function clusteredRate(
  outcomes: readonly ClusteredOutcome[],
  options: BootstrapOptions = {},
): ClusteredRate {
  const n = outcomes.length;
  if (n === 0) return { rate: Number.NaN, lower: Number.NaN, upper: Number.NaN, n: 0 };
  const rate = outcomes.reduce((sum, outcome) => sum + outcome.value, 0) / n;
  if (rate === 0 || rate === 1) {
    const clusters = new Set(outcomes.map((outcome) => outcome.cluster)).size;
    const wilson = wilsonInterval(rate * clusters, clusters, options.confidence ?? 0.95);
    return { rate, lower: wilson.lower, upper: wilson.upper, n };
  }
  const estimate = clusterBootstrapMacro([outcomes], options);
  return { rate, lower: estimate.lower, upper: estimate.upper, n };
}

/** A mean over independent units (e.g. seeds) with its Student t interval. */
export interface TInterval {
  mean: number;
  lower: number;
  upper: number;
  /** Units. */
  n: number;
  /** Sample standard deviation (n − 1). */
  sd: number;
  confidence: number;
}

/**
 * The mean of per-unit values (a per-seed difference, seeds paired) with a t interval over the
 * units: the honest interval when units differ more than the items within them do. Undefined under
 * two units (no spread to estimate).
 */
export function tInterval(values: readonly number[], confidence = 0.95): TInterval | undefined {
  checkProbability('tInterval: confidence', confidence);
  if (values.length < 2) return undefined;
  const n = values.length;
  const mean = values.reduce((sum, value) => sum + value, 0) / n;
  const sd = Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (n - 1));
  const half = studentTQuantile(1 - (1 - confidence) / 2, n - 1) * (sd / Math.sqrt(n));
  return { mean, lower: mean - half, upper: mean + half, n, sd, confidence };
}

export interface DetectableEffectOptions {
  /** The estimate's standard error. */
  standardError: number;
  /** With degrees of freedom, Student's t quantiles (a paired t test); without, the normal's. */
  degreesOfFreedom?: number;
  /** Two-sided level of the test (default 0.95). */
  confidence?: number;
  /** Default 0.8. */
  power?: number;
}

/**
 * The smallest true effect a two-sided test detects with the given power: (q₁₋α/₂ + q_power) · se,
 * with t quantiles when `degreesOfFreedom` is given (e.g. seeds − 1) and normal ones otherwise.
 */
export function detectableEffect(options: DetectableEffectOptions): number {
  const confidence = options.confidence ?? 0.95;
  const power = options.power ?? 0.8;
  checkProbability('detectableEffect: confidence', confidence);
  checkProbability('detectableEffect: power', power);
  const df = options.degreesOfFreedom;
  if (!Number.isFinite(options.standardError) || (df !== undefined && !(df >= 1)))
    return Number.NaN;
  const quantile = (p: number) => (df === undefined ? normalQuantile(p) : studentTQuantile(p, df));
  return (quantile(1 - (1 - confidence) / 2) + quantile(power)) * options.standardError;
}

function checkProbability(what: string, value: number): void {
  if (!(value > 0 && value < 1))
    throw new EvaluationError({
      code: 'eval/invalid-argument',
      message: `${what} must be in (0, 1), got ${value}`,
    });
}
