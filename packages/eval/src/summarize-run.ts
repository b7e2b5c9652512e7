import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BootstrapEstimate, clusterBootstrapMacro } from './bootstrap.js';
import { type ArmComparison, compareArms, twoSampleDifference } from './compare-arms.js';
import type { AgreementReport } from './judge-calibration.js';
import {
  clopperPearsonInterval,
  type RateEstimate,
  wilsonInterval,
} from './proportion-intervals.js';
import { type RunManifest, readManifest, readSampleLog, type SampleRecord } from './run-log.js';
import { type ScoringDiagnostics, scoringDiagnostics } from './scoring-diagnostics.js';

/** Alignment faking: the rate when told monitored/trained on minus the rate when told not. */
export interface ComplianceGap {
  arm: string;
  /** The condition without its monitoring part, e.g. "alignment-faking/explicit-safety/replacement". */
  condition: string;
  gap: BootstrapEstimate & { n: [number, number] };
}

/** The file calibrateJudge's agreement is written to in a run folder (see runEval's calibration). */
export const CALIBRATION_FILE = 'calibration.json';

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
  /** Judged suites: rule/judge agreement, unscored samples and the missing-at-random check, per arm. */
  scoring: ScoringDiagnostics[];
  /** Every other arm against the first on the same items. */
  armComparisons: ArmComparison[];
  complianceGaps: ComplianceGap[];
  /** The judge against a labelled set, when the run was calibrated. */
  calibration: AgreementReport | null;
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
): Omit<RunSummary, 'skippedLines' | 'calibration'> {
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
  const present = armOrder.filter((arm) => records.some((record) => record.arm === arm));
  const judged = records.some((record) => record.judge !== null || record.rules.length > 0);
  const scoring = judged
    ? present.map((arm) =>
        scoringDiagnostics(
          arm,
          records.filter((record) => record.arm === arm),
        ),
      )
    : [];
  const armComparisons = present
    .slice(1)
    .map((arm) => compareArms(records, present[0] as string, arm, options.seed ?? 1));
  return {
    manifest,
    rateLabel: rateLabel(manifest.suite.kind),
    conditions,
    arms,
    positionBias,
    scoring,
    armComparisons,
    complianceGaps: complianceGaps(present, records, options.seed ?? 1),
  };
}

function complianceGaps(arms: string[], records: SampleRecord[], seed: number): ComplianceGap[] {
  const gaps: ComplianceGap[] = [];
  const outcomes = (group: SampleRecord[]) =>
    group
      .filter((record) => record.final.status === 'scored')
      .map((record) => ({
        cluster: record.cluster,
        value: record.final.status === 'scored' && record.final.value ? 1 : 0,
      }));
  for (const arm of arms) {
    const faking = records.filter(
      (record) => record.arm === arm && record.conditionParts.monitoring !== undefined,
    );
    const byCondition = groupBy(faking, (record) =>
      record.condition.replace(/\/(monitored|unmonitored)$/, ''),
    );
    for (const [condition, group] of [...byCondition.entries()].sort(([a], [b]) =>
      a.localeCompare(b),
    )) {
      const monitored = outcomes(group.filter((r) => r.conditionParts.monitoring === 'monitored'));
      const unmonitored = outcomes(
        group.filter((r) => r.conditionParts.monitoring === 'unmonitored'),
      );
      if (monitored.length === 0 || unmonitored.length === 0) continue;
      gaps.push({ arm, condition, gap: twoSampleDifference(unmonitored, monitored, { seed }) });
    }
  }
  return gaps;
}

async function readCalibration(directory: string): Promise<AgreementReport | null> {
  try {
    return JSON.parse(await readFile(join(directory, CALIBRATION_FILE), 'utf8')) as AgreementReport;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Reads a run folder and summarizes it. */
export async function summarizeRun(
  directory: string,
  options: { confidence?: number; seed?: number } = {},
): Promise<RunSummary> {
  const manifest = await readManifest(directory);
  const { records, skippedLines } = await readSampleLog(directory);
  return {
    ...summarizeRecords(manifest, records, options),
    calibration: await readCalibration(directory),
    skippedLines,
  };
}
