import { type BootstrapEstimate, clusterBootstrapMacro } from './bootstrap.js';
import {
  clopperPearsonInterval,
  type RateEstimate,
  wilsonInterval,
} from './proportion-intervals.js';
import { type RunManifest, readManifest, readSampleLog, type SampleRecord } from './run-log.js';

/** What a rate counts, by suite kind. */
export function rateLabel(kind: RunManifest['suite']['kind']): string {
  if (kind === 'preference-choice') return 'chose the target option';
  if (kind === 'agentic-misalignment') return 'misaligned';
  return 'violated the spec';
}

export interface ConditionSummary {
  arm: string;
  condition: string;
  conditionParts: Record<string, string>;
  /** Samples with a final verdict; the denominator. */
  scored: number;
  /** Samples with no verdict, by reason: not in the denominator. */
  unscored: Record<string, number>;
  wilson: RateEstimate;
  clopperPearson: RateEstimate;
}

export interface PositionBias {
  arm: string;
  condition: string;
  /** Share of choices that picked whichever option was shown first (0.5 = no position bias). */
  firstPosition: RateEstimate;
  /** Items whose two orders were both scored. */
  pairedItems: number;
  /** Share of those items where both orders chose the same option. */
  consistent: number;
}

export interface ArmSummary {
  arm: string;
  model: string;
  scored: number;
  unscored: Record<string, number>;
  /** Unweighted mean of the per-condition rates, with a cluster-bootstrap interval. */
  macro: BootstrapEstimate;
  cost: number | null;
  tokens: { input: number; output: number };
}

export interface RunSummary {
  manifest: RunManifest;
  rateLabel: string;
  conditions: ConditionSummary[];
  arms: ArmSummary[];
  positionBias: PositionBias[];
  skippedLines: number;
}

function countBy<T>(values: T[], key: (value: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[key(value)] = (counts[key(value)] ?? 0) + 1;
  return counts;
}

function groupBy<T>(values: T[], key: (value: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const value of values) groups.set(key(value), [...(groups.get(key(value)) ?? []), value]);
  return groups;
}

const unscoredReason = (record: SampleRecord) =>
  record.final.status === 'unscored' ? record.final.reason : 'scored';

/** Rates per arm and condition with both intervals, macro averages, unscored counts and position bias. */
export function summarizeRecords(
  manifest: RunManifest,
  records: SampleRecord[],
  options: { confidence?: number; seed?: number } = {},
): Omit<RunSummary, 'skippedLines'> {
  const confidence = options.confidence ?? 0.95;
  const armOrder = manifest.arms.map((arm) => arm.name);
  const conditions: ConditionSummary[] = [];
  const positionBias: PositionBias[] = [];
  const arms: ArmSummary[] = [];
  for (const arm of armOrder) {
    const armRecords = records.filter((record) => record.arm === arm);
    if (armRecords.length === 0) continue;
    const byCondition = groupBy(armRecords, (record) => record.condition);
    const macroInput: Array<Array<{ cluster: string; value: number }>> = [];
    for (const [condition, group] of [...byCondition.entries()].sort(([a], [b]) =>
      a.localeCompare(b),
    )) {
      const scored = group.filter((record) => record.final.status === 'scored');
      const successes = scored.filter(
        (record) => record.final.status === 'scored' && record.final.value,
      ).length;
      const unscored = countBy(
        group.filter((record) => record.final.status === 'unscored'),
        unscoredReason,
      );
      conditions.push({
        arm,
        condition,
        conditionParts: group[0]?.conditionParts ?? {},
        scored: scored.length,
        unscored,
        wilson: wilsonInterval(successes, scored.length, confidence),
        clopperPearson: clopperPearsonInterval(successes, scored.length, confidence),
      });
      macroInput.push(
        scored.map((record) => ({
          cluster: record.cluster,
          value: record.final.status === 'scored' && record.final.value ? 1 : 0,
        })),
      );
      const choices = group.filter(
        (record) => record.choice && record.choice.chosenPosition !== null,
      );
      if (choices.length > 0) {
        const first = choices.filter((record) => record.choice?.chosenPosition === 0).length;
        const items = [
          ...groupBy(choices, (record) => `${record.cluster}#${record.epoch}`).values(),
        ].filter((pair) => pair.length === 2);
        const consistent = items.filter(
          (pair) => pair[0]?.choice?.chosenOption === pair[1]?.choice?.chosenOption,
        ).length;
        positionBias.push({
          arm,
          condition,
          firstPosition: wilsonInterval(first, choices.length, confidence),
          pairedItems: items.length,
          consistent: items.length === 0 ? Number.NaN : consistent / items.length,
        });
      }
    }
    const costs = armRecords
      .map((record) => record.cost)
      .filter((cost): cost is number => cost !== null);
    arms.push({
      arm,
      model: manifest.arms.find((entry) => entry.name === arm)?.model ?? '',
      scored: armRecords.filter((record) => record.final.status === 'scored').length,
      unscored: countBy(
        armRecords.filter((record) => record.final.status === 'unscored'),
        unscoredReason,
      ),
      macro: clusterBootstrapMacro(macroInput, {
        confidence,
        ...(options.seed === undefined ? {} : { seed: options.seed }),
      }),
      cost: costs.length === 0 ? null : costs.reduce((sum, cost) => sum + cost, 0),
      tokens: {
        input: armRecords.reduce(
          (sum, r) => sum + r.tokens.model.inputTokens + r.tokens.judge.inputTokens,
          0,
        ),
        output: armRecords.reduce(
          (sum, r) => sum + r.tokens.model.outputTokens + r.tokens.judge.outputTokens,
          0,
        ),
      },
    });
  }
  return { manifest, rateLabel: rateLabel(manifest.suite.kind), conditions, arms, positionBias };
}

/** Reads a run folder and summarizes it. */
export async function summarizeRun(
  directory: string,
  options: { confidence?: number; seed?: number } = {},
): Promise<RunSummary> {
  const manifest = await readManifest(directory);
  const { records, skippedLines } = await readSampleLog(directory);
  return { ...summarizeRecords(manifest, records, options), skippedLines };
}
