import type { BootstrapOptions } from './bootstrap.js';
import {
  type DifferenceInDifferencesResult,
  differenceInDifferences,
  type PairedItem,
  pairedDifferenceInDifferences,
} from './difference-in-differences.js';
import { EvaluationError } from './evaluation-error.js';
import { readManifest, readSampleLog, type SampleRecord } from './run-log.js';

export interface RunDifferenceOptions extends BootstrapOptions {
  /** The arm whose change is measured (e.g. "msm-america"). */
  treated: string;
  /** The reference arm (e.g. "aft-only"). */
  control: string;
  /** Reference conditions: a condition key or any of its parts (e.g. "training"). */
  before: string;
  /** Conditions of interest (e.g. "held-out"). */
  after: string;
}

export interface RunDifference extends DifferenceInDifferencesResult {
  /** Items (clusters) in each period, each resampled with both arms' outcomes on it. */
  items: { before: number; after: number };
  /** Scored samples in each cell. */
  counts: Record<'treatedBefore' | 'treatedAfter' | 'controlBefore' | 'controlAfter', number>;
}

const matches = (record: SampleRecord, selector: string) =>
  record.condition === selector || Object.values(record.conditionParts).includes(selector);

/**
 * Difference-in-differences between two arms of one run folder: how much more the treated arm moves
 * than the control arm from the `before` conditions to the `after` conditions. Unscored samples are
 * left out. The bootstrap resamples items (clusters) jointly across the arms, which share them; the
 * Wald interval treats the four cells as independent and is kept for reference.
 */
export async function runDifferenceInDifferences(
  directory: string,
  options: RunDifferenceOptions,
): Promise<RunDifference> {
  const manifest = await readManifest(directory);
  const arms = manifest.arms.map((arm) => arm.name);
  const missing = [options.treated, options.control].filter((arm) => !arms.includes(arm));
  if (missing.length > 0) {
    throw new EvaluationError({
      code: 'eval/invalid-argument',
      message: `${directory} has no arm ${missing.join(', ')} (arms: ${arms.join(', ')})`,
    });
  }
  const { records } = await readSampleLog(directory);
  const cell = (arm: string, selector: string) =>
    records
      .filter(
        (record) =>
          record.arm === arm && record.final.status === 'scored' && matches(record, selector),
      )
      .map((record) => ({
        cluster: record.cluster,
        value: record.final.status === 'scored' && record.final.value ? 1 : 0,
      }));
  const input = {
    treatedBefore: cell(options.treated, options.before),
    treatedAfter: cell(options.treated, options.after),
    controlBefore: cell(options.control, options.before),
    controlAfter: cell(options.control, options.after),
  };
  const items = new Map<string, PairedItem & { treated: number[]; control: number[] }>();
  for (const record of records) {
    if (record.final.status !== 'scored') continue;
    const arm =
      record.arm === options.treated
        ? 'treated'
        : record.arm === options.control
          ? 'control'
          : null;
    const period = matches(record, options.before)
      ? 'before'
      : matches(record, options.after)
        ? 'after'
        : null;
    if (!arm || !period) continue;
    const key = `${period}:${record.cluster}`;
    const item = items.get(key) ?? { item: record.cluster, period, treated: [], control: [] };
    item[arm].push(record.final.value ? 1 : 0);
    items.set(key, item);
  }
  const result = differenceInDifferences(input, options);
  const joint = pairedDifferenceInDifferences([...items.values()], options);
  return {
    ...result,
    bootstrap: joint.bootstrap,
    items: joint.items,
    counts: {
      treatedBefore: input.treatedBefore.length,
      treatedAfter: input.treatedAfter.length,
      controlBefore: input.controlBefore.length,
      controlAfter: input.controlAfter.length,
    },
  };
}
