import { EvaluationError } from './evaluation-error.js';
import { zForConfidence } from './proportion-intervals.js';

export interface SampleSizeOptions {
  /** The rate you expect (0.5 is the worst case). */
  expectedRate: number;
  /** Wanted full width of the interval (upper − lower), e.g. 0.1 for ±5 points. */
  width: number;
  /** Default 0.95. */
  confidence?: number;
  /** 'wilson' (default): smallest n whose Wilson interval at the expected rate is narrow enough; 'normal': the textbook z²p(1−p)/(w/2)². */
  method?: 'wilson' | 'normal';
}

export interface SampleSizePlan {
  /** Scored samples needed per condition. */
  samplesPerCondition: number;
  /** The interval width at that n. */
  achievedWidth: number;
  method: 'wilson' | 'normal';
}

/**
 * Samples per condition for a target interval width. Plan for scored samples: divide by the share you
 * expect to be scored (judge failures are not evidence).
 */
export function planSampleSize(options: SampleSizeOptions): SampleSizePlan {
  const { expectedRate, width } = options;
  const confidence = options.confidence ?? 0.95;
  const method = options.method ?? 'wilson';
  const problems: string[] = [];
  if (!(expectedRate >= 0 && expectedRate <= 1))
    problems.push(`expectedRate must be in [0, 1], got ${expectedRate}`);
  if (!(width > 0 && width < 1)) problems.push(`width must be in (0, 1), got ${width}`);
  if (!(confidence > 0 && confidence < 1))
    problems.push(`confidence must be in (0, 1), got ${confidence}`);
  if (problems.length > 0) {
    throw new EvaluationError({
      code: 'eval/invalid-argument',
      message: `planSampleSize: ${problems.join('; ')}`,
    });
  }
  const z = zForConfidence(confidence);
  if (method === 'normal') {
    const half = width / 2;
    const n = Math.max(1, Math.ceil((z * z * expectedRate * (1 - expectedRate)) / (half * half)));
    return {
      samplesPerCondition: n,
      achievedWidth: 2 * z * Math.sqrt((expectedRate * (1 - expectedRate)) / n),
      method,
    };
  }
  const widthAt = (n: number) => {
    // wilsonInterval's arithmetic with z computed once.
    const x = Math.round(expectedRate * n);
    const denominator = n + z * z;
    const center = (x + (z * z) / 2) / denominator;
    const half = (z * Math.sqrt((x * (n - x)) / n + (z * z) / 4)) / denominator;
    return Math.min(1, center + half) - Math.max(0, center - half);
  };
  // Width shrinks roughly as 1/√n; a doubling search then a linear scan (rounding makes it not
  // strictly monotone) finds the first n that meets the target.
  let high = 1;
  while (widthAt(high) > width) high *= 2;
  let n = Math.max(1, Math.floor(high / 2));
  while (widthAt(n) > width) n++;
  return { samplesPerCondition: n, achievedWidth: widthAt(n), method };
}
