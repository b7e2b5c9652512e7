import { type BootstrapEstimate, pairedBootstrapDifference } from './bootstrap.js';
import { EvaluationError } from './evaluation-error.js';
import { holmAdjust, type McNemarResult, mcnemarExact, pairedCounts } from './paired-tests.js';
import { readManifest, readSampleLog, type SampleRecord } from './run-log.js';

export interface ConditionComparison {
  condition: string;
  /** Samples scored in both runs. */
  pairs: number;
  /** Samples left out because one side is unscored. */
  excluded: number;
  rateA: number;
  rateB: number;
  counts: ReturnType<typeof pairedCounts>;
  mcnemar: McNemarResult;
  /** Holm-adjusted across conditions. */
  pValueHolm: number;
  /** rateB − rateA with a paired cluster-bootstrap interval. */
  difference: BootstrapEstimate;
}

export interface RunComparison {
  armA: string;
  armB: string;
  suite: string;
  conditions: ConditionComparison[];
  overall: Omit<ConditionComparison, 'condition' | 'pValueHolm'>;
  /** Samples present in only one run. */
  unmatched: number;
}

const outcomeOf = (record: SampleRecord) =>
  record.final.status === 'scored' ? (record.final.value ? 1 : 0) : null;

/** Exact McNemar and a paired bootstrap of the difference over pairs of one item under two models. */
export function comparePairs(pairs: Array<[SampleRecord, SampleRecord]>, seed: number) {
  const both = pairs.filter(([a, b]) => outcomeOf(a) !== null && outcomeOf(b) !== null);
  const counts = pairedCounts(
    both.map(([a, b]) => [outcomeOf(a) === 1, outcomeOf(b) === 1] as const),
  );
  const n = both.length;
  return {
    pairs: n,
    excluded: pairs.length - n,
    rateA: n === 0 ? Number.NaN : (counts.both + counts.onlyFirst) / n,
    rateB: n === 0 ? Number.NaN : (counts.both + counts.onlySecond) / n,
    counts,
    mcnemar: mcnemarExact(counts.onlyFirst, counts.onlySecond),
    difference: pairedBootstrapDifference(
      both.map(([a, b]) => ({
        cluster: a.cluster,
        first: outcomeOf(a) as number,
        second: outcomeOf(b) as number,
      })),
      { seed },
    ),
  };
}

/**
 * Paired comparison of two runs of the same suite: samples are matched by sample id and epoch, so each
 * model is judged on exactly the same items. Exact McNemar per condition with Holm's correction across
 * conditions, and a paired bootstrap interval of the difference.
 */
export async function compareRuns(
  directoryA: string,
  directoryB: string,
  options: { armA?: string; armB?: string; seed?: number } = {},
): Promise<RunComparison> {
  const [manifestA, manifestB] = await Promise.all([
    readManifest(directoryA),
    readManifest(directoryB),
  ]);
  const problems: string[] = [];
  if (manifestA.suite.id !== manifestB.suite.id)
    problems.push(
      `the runs are of different suites (${manifestA.suite.id} vs ${manifestB.suite.id})`,
    );
  const armA = options.armA ?? manifestA.arms[0]?.name;
  const armB = options.armB ?? manifestB.arms[0]?.name;
  if (!armA || !manifestA.arms.some((arm) => arm.name === armA))
    problems.push(`${directoryA} has no arm ${armA ?? '(none)'}`);
  if (!armB || !manifestB.arms.some((arm) => arm.name === armB))
    problems.push(`${directoryB} has no arm ${armB ?? '(none)'}`);
  if (problems.length > 0 || !armA || !armB) {
    throw new EvaluationError({
      code: 'eval/cannot-compare',
      message: `cannot compare: ${problems.join('; ')}`,
    });
  }
  const [logA, logB] = await Promise.all([readSampleLog(directoryA), readSampleLog(directoryB)]);
  const id = (record: SampleRecord) => `${record.sampleId}#${record.epoch}`;
  const recordsB = new Map(
    logB.records.filter((record) => record.arm === armB).map((record) => [id(record), record]),
  );
  const recordsA = logA.records.filter((record) => record.arm === armA);
  const pairs: Array<[SampleRecord, SampleRecord]> = [];
  for (const record of recordsA) {
    const other = recordsB.get(id(record));
    if (other) pairs.push([record, other]);
  }
  const unmatched = recordsA.length + recordsB.size - 2 * pairs.length;
  const seed = options.seed ?? 1;
  const byCondition = new Map<string, Array<[SampleRecord, SampleRecord]>>();
  for (const pair of pairs)
    byCondition.set(pair[0].condition, [...(byCondition.get(pair[0].condition) ?? []), pair]);
  const groups = [...byCondition.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([condition, group]) => ({ condition, ...comparePairs(group, seed) }));
  const adjusted = holmAdjust(groups.map((group) => group.mcnemar.pValue));
  return {
    armA,
    armB,
    suite: manifestA.suite.id,
    conditions: groups.map((group, i) => ({ ...group, pValueHolm: adjusted[i] as number })),
    overall: comparePairs(pairs, seed),
    unmatched,
  };
}
