import { seededRandom } from '@midspec/core';
import { type BootstrapEstimate, percentile } from './bootstrap.js';
import { comparePairs } from './compare-runs.js';
import { zForConfidence } from './proportion-intervals.js';
import type { SampleRecord } from './run-log.js';

/** Two arms of one run on the same items: exact McNemar and a paired bootstrap over items. */
export interface ArmComparison extends ReturnType<typeof comparePairs> {
  armA: string;
  armB: string;
}

/** Pairs each sample epoch of arm A with the same sample epoch of arm B (the same item). */
export function compareArms(
  records: readonly SampleRecord[],
  armA: string,
  armB: string,
  seed = 1,
): ArmComparison {
  const id = (record: SampleRecord) => `${record.sampleId}#${record.epoch}`;
  const second = new Map(
    records.filter((record) => record.arm === armB).map((record) => [id(record), record]),
  );
  const pairs: Array<[SampleRecord, SampleRecord]> = [];
  for (const record of records) {
    if (record.arm !== armA) continue;
    const other = second.get(id(record));
    if (other) pairs.push([record, other]);
  }
  return { armA, armB, ...comparePairs(pairs, seed) };
}

/**
 * The difference of two rates measured on different items (e.g. the alignment-faking compliance gap,
 * monitored − unmonitored), with a bootstrap that resamples each side's clusters.
 */
export function twoSampleDifference(
  first: ReadonlyArray<{ cluster: string; value: number }>,
  second: ReadonlyArray<{ cluster: string; value: number }>,
  options: { resamples?: number; confidence?: number; seed?: number } = {},
): BootstrapEstimate & { n: [number, number] } {
  const confidence = options.confidence ?? 0.95;
  const resamples = options.resamples ?? 2000;
  const group = (outcomes: typeof first) => {
    const clusters = new Map<string, number[]>();
    for (const { cluster, value } of outcomes)
      clusters.set(cluster, [...(clusters.get(cluster) ?? []), value]);
    return [...clusters.values()];
  };
  const a = group(first);
  const b = group(second);
  const mean = (clusters: number[][], pick: (i: number) => number) => {
    let sum = 0;
    let count = 0;
    for (let i = 0; i < clusters.length; i++) {
      const cluster = clusters[pick(i)] as number[];
      for (const value of cluster) sum += value;
      count += cluster.length;
    }
    return count === 0 ? Number.NaN : sum / count;
  };
  const estimate = mean(b, (i) => i) - mean(a, (i) => i);
  const random = seededRandom(options.seed ?? 1);
  const draws: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const value =
      mean(b, () => Math.floor(random() * b.length)) -
      mean(a, () => Math.floor(random() * a.length));
    if (!Number.isNaN(value)) draws.push(value);
  }
  draws.sort((x, y) => x - y);
  const at = (q: number) => draws[Math.min(draws.length - 1, Math.floor(q * draws.length))];
  const alpha = 1 - confidence;
  let lower = at(alpha / 2) ?? Number.NaN;
  let upper = at(1 - alpha / 2) ?? Number.NaN;
  if (!(upper > lower)) {
    // Same guard as the other bootstraps: a normal interval when the draws collapsed.
    const variance = [a, b].reduce((sum, clusters) => {
      const means = clusters.map((c) => c.reduce((s, v) => s + v, 0) / c.length);
      const m = means.reduce((s, v) => s + v, 0) / means.length;
      return sum + means.reduce((s, v) => s + (v - m) ** 2, 0) / means.length ** 2;
    }, 0);
    if (variance > 0) {
      const half = zForConfidence(confidence) * Math.sqrt(variance);
      lower = Math.max(-1, estimate - half);
      upper = Math.min(1, estimate + half);
    }
  }
  return { estimate, lower, upper, confidence, resamples, n: [first.length, second.length] };
}

/**
 * treated − control over items both arms were measured on, resampling items with both arms'
 * outcomes together (a paired bootstrap over items). Items seen by one arm only still count toward
 * that arm's mean.
 */
export function pairedItemDifference(
  items: ReadonlyArray<{ item: string; treated: readonly number[]; control: readonly number[] }>,
  options: { resamples?: number; confidence?: number; seed?: number } = {},
): BootstrapEstimate {
  const confidence = options.confidence ?? 0.95;
  const resamples = options.resamples ?? 2000;
  const totals = items.map((item) => [
    item.treated.reduce((sum, value) => sum + value, 0),
    item.treated.length,
    item.control.reduce((sum, value) => sum + value, 0),
    item.control.length,
  ]);
  const difference = (pick: (i: number) => number) => {
    const sums = [0, 0, 0, 0];
    for (let i = 0; i < totals.length; i++) {
      const row = totals[pick(i)] as number[];
      for (let k = 0; k < 4; k++) sums[k] = (sums[k] as number) + (row[k] as number);
    }
    const [ts, tn, cs, cn] = sums as [number, number, number, number];
    return tn === 0 || cn === 0 ? Number.NaN : ts / tn - cs / cn;
  };
  const estimate = difference((i) => i);
  const random = seededRandom(options.seed ?? 1);
  const draws: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const value = difference(() => Math.floor(random() * totals.length));
    if (!Number.isNaN(value)) draws.push(value);
  }
  draws.sort((x, y) => x - y);
  const at = (q: number) => percentile(draws, q);
  const alpha = 1 - confidence;
  return {
    estimate,
    lower: draws.length === 0 ? Number.NaN : at(alpha / 2),
    upper: draws.length === 0 ? Number.NaN : at(1 - alpha / 2),
    confidence,
    resamples,
  };
}
