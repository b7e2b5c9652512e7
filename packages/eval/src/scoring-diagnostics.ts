import { decisiveRule } from './action-checks.js';
import { type RateEstimate, wilsonInterval } from './proportion-intervals.js';
import type { SampleRecord } from './run-log.js';
import { logChoose } from './special-functions.js';

/** Two-sided Fisher exact test of a 2×2 table [[a, b], [c, d]] (sum of tables no likelier than it). */
export function fisherExact(a: number, b: number, c: number, d: number): number {
  const row = a + b;
  const column = a + c;
  const n = a + b + c + d;
  const logP = (x: number) =>
    logChoose(column, x) + logChoose(n - column, row - x) - logChoose(n, row);
  const observed = logP(a);
  let p = 0;
  for (let x = Math.max(0, row + column - n); x <= Math.min(row, column); x++) {
    const value = logP(x);
    // Relative tolerance, as scipy: tables equally likely up to rounding count as extreme.
    if (value <= observed + 1e-7) p += Math.exp(value);
  }
  return Math.min(1, p);
}

/** Rule against judge on the samples where both gave a verdict ("positive" is misaligned). */
export interface RuleJudgeAgreement {
  samples: number;
  both: number;
  onlyRule: number;
  onlyJudge: number;
  neither: number;
  /** Share of samples where rule and judge agree. */
  agreement: RateEstimate;
  /** Cohen's kappa: agreement beyond chance (NaN when one side never varies). */
  kappa: number;
}

export interface UnscoredSample {
  arm: string;
  sampleId: string;
  epoch: number;
  condition: string;
  reason: string;
  detail: string;
  /** Whether the deterministic rule fired on this transcript. */
  ruleFired: boolean | null;
}

/**
 * Are unscored samples missing at random? Their share among rule hits against rule misses, with a
 * Fisher exact test: if judge failures cluster on (or avoid) rule hits, leaving them out biases the
 * rate, and the report says so.
 */
export interface Missingness {
  ruleHits: { unscored: number; total: number };
  ruleMisses: { unscored: number; total: number };
  pValue: number;
  /** p < 0.05: unscored samples are associated with rule hits; rates may be biased. */
  notMissingAtRandom: boolean;
}

export interface ScoringDiagnostics {
  arm: string;
  ruleJudge: RuleJudgeAgreement;
  unscored: UnscoredSample[];
  missingness: Missingness;
}

const ruleFired = (record: SampleRecord): boolean | null =>
  record.rules.length === 0 ? null : (decisiveRule(record.rules)?.fired ?? false);

function kappa(both: number, onlyRule: number, onlyJudge: number, neither: number): number {
  const n = both + onlyRule + onlyJudge + neither;
  if (n === 0) return Number.NaN;
  const observed = (both + neither) / n;
  const rule = (both + onlyRule) / n;
  const judge = (both + onlyJudge) / n;
  const chance = rule * judge + (1 - rule) * (1 - judge);
  return chance === 1 ? Number.NaN : (observed - chance) / (1 - chance);
}

/** Rule/judge agreement, the unscored samples with their reasons, and a missing-at-random check. */
export function scoringDiagnostics(
  arm: string,
  records: readonly SampleRecord[],
): ScoringDiagnostics {
  const counts = { both: 0, onlyRule: 0, onlyJudge: 0, neither: 0 };
  const unscored: UnscoredSample[] = [];
  const missing = { hits: [0, 0], misses: [0, 0] };
  for (const record of records) {
    const rule = ruleFired(record);
    const verdict = record.judge?.verdict;
    if (rule !== null && verdict?.status === 'scored') {
      if (rule && verdict.misaligned) counts.both++;
      else if (rule) counts.onlyRule++;
      else if (verdict.misaligned) counts.onlyJudge++;
      else counts.neither++;
    }
    const isUnscored = record.final.status === 'unscored';
    if (rule !== null) {
      const cell = rule ? missing.hits : missing.misses;
      cell[0] = (cell[0] as number) + (isUnscored ? 1 : 0);
      cell[1] = (cell[1] as number) + 1;
    }
    if (record.final.status === 'unscored') {
      unscored.push({
        arm,
        sampleId: record.sampleId,
        epoch: record.epoch,
        condition: record.condition,
        reason: record.final.reason,
        detail: record.final.detail,
        ruleFired: rule,
      });
    }
  }
  const samples = counts.both + counts.onlyRule + counts.onlyJudge + counts.neither;
  const [hitUnscored, hitTotal] = missing.hits as [number, number];
  const [missUnscored, missTotal] = missing.misses as [number, number];
  const pValue = fisherExact(
    hitUnscored,
    hitTotal - hitUnscored,
    missUnscored,
    missTotal - missUnscored,
  );
  return {
    arm,
    ruleJudge: {
      samples,
      ...counts,
      agreement: wilsonInterval(counts.both + counts.neither, samples),
      kappa: kappa(counts.both, counts.onlyRule, counts.onlyJudge, counts.neither),
    },
    unscored,
    missingness: {
      ruleHits: { unscored: hitUnscored, total: hitTotal },
      ruleMisses: { unscored: missUnscored, total: missTotal },
      pValue,
      notMissingAtRandom: pValue < 0.05,
    },
  };
}
