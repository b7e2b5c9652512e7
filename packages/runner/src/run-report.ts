import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ClusteredOutcome,
  clusterBootstrapDifference,
  clusterBootstrapMacro,
  differenceInDifferences,
  readSampleLog,
  type SampleRecord,
  tInterval95,
  wilsonInterval,
  writeReport,
} from '@midspec/eval';
import type { RunConfig } from './run-config.js';
import type { EvaluatedModel, PipelineResult } from './run-pipeline.js';

export interface Estimate {
  rate: number;
  lower: number;
  upper: number;
  /** Scored samples (item × order × seed). */
  n: number;
}

export interface ArmRow {
  arm: string;
  /**
   * Per split: the rate pooled over seeds, with a cluster-bootstrap interval (clusters: item × seed);
   * when every outcome is alike, Wilson's interval over the clusters.
   */
  splits: Record<string, Estimate>;
  /** Per seed, per split: the rate and its Wilson interval. */
  seeds: Array<{ seed: number | undefined; splits: Record<string, Estimate> }>;
  /** Share of choices for the option shown first (0.5: no position bias). */
  firstPosition: number;
  unscored: number;
}

export interface ContrastRow {
  treated: string;
  control: string;
  after: string;
  before: string;
  /** treated − control on `after`, cluster-bootstrap 95 % interval. */
  difference: Estimate & { excludesZero: boolean };
  /**
   * The same difference per seed (seeds paired), with a t interval over seeds: the honest interval
   * when seeds differ more than items do, which the item-level bootstrap does not see.
   */
  seedLevel: (Estimate & { excludesZero: boolean; perSeed: number[] }) | undefined;
  /** (treated − control on `after`) − (treated − control on `before`), Wald and bootstrap intervals. */
  differenceInDifferences: {
    estimate: number;
    wald: [number, number];
    bootstrap: [number, number];
  };
}

export interface SuiteReport {
  suite: string;
  dir: string;
  arms: ArmRow[];
  contrasts: ContrastRow[];
}

export interface ExperimentReport {
  name: string;
  rateName: string;
  suites: SuiteReport[];
}

const RESAMPLES = 2000;

/** The last record of each model × sample × epoch (a rerun's records supersede earlier ones). */
function latest(records: SampleRecord[]): SampleRecord[] {
  const byKey = new Map<string, SampleRecord>();
  for (const record of records)
    byKey.set(`${record.arm}\u0000${record.sampleId}\u0000${record.epoch}`, record);
  return [...byKey.values()];
}

/**
 * The column a record counts in, and what contrasts compare: a preference item's split (training,
 * held-out), an agentic sample's goal type (explicit, latent, ambiguous, none), else its condition.
 */
function splitOf(record: SampleRecord): string {
  const parts = record.conditionParts;
  return parts.split ?? parts.goalType ?? record.condition;
}

/** Outcomes clustered by item and seed (an item's two orders move together). */
function outcomes(
  records: SampleRecord[],
  model: (arm: string) => EvaluatedModel | undefined,
): ClusteredOutcome[] {
  return records.flatMap((record) =>
    record.final.status === 'scored'
      ? [
          {
            cluster: `${model(record.arm)?.seed ?? '-'}:${record.cluster}`,
            value: record.final.value ? 1 : 0,
          },
        ]
      : [],
  );
}

/**
 * The rate pooled over seeds with a cluster-bootstrap interval (eval's `clusterBootstrapMacro` over
 * one condition); when every outcome is alike, Wilson's interval over the clusters instead.
 */
export function pooledRate(values: ClusteredOutcome[], seed: number): Estimate {
  const n = values.length;
  if (n === 0) return { rate: Number.NaN, lower: Number.NaN, upper: Number.NaN, n: 0 };
  const rate = values.reduce((sum, outcome) => sum + outcome.value, 0) / n;
  if (rate === 0 || rate === 1) {
    // Every outcome alike: resampling has no spread to show, and [0, 0] would claim certainty.
    // Wilson's interval with the clusters as the sample size (within a cluster, outcomes move
    // together) stays honest about how little was seen.
    const clusters = new Set(values.map((outcome) => outcome.cluster)).size;
    const wilson = wilsonInterval(rate * clusters, clusters, 0.95);
    return { rate, lower: wilson.lower, upper: wilson.upper, n };
  }
  const estimate = clusterBootstrapMacro([values], { resamples: RESAMPLES, seed });
  return { rate, lower: estimate.lower, upper: estimate.upper, n };
}

/** treated − control with clusters resampled within each arm (eval's `clusterBootstrapDifference`). */
function bootstrapDifference(
  treated: ClusteredOutcome[],
  control: ClusteredOutcome[],
  seed: number,
): Estimate & { excludesZero: boolean } {
  const { estimate, lower, upper } = clusterBootstrapDifference(treated, control, {
    resamples: RESAMPLES,
    seed,
  });
  return {
    rate: estimate,
    lower,
    upper,
    n: treated.length + control.length,
    excludesZero: lower > 0 || upper < 0,
  };
}

function seedLevelDifference(
  arms: ArmRow[],
  treated: string,
  control: string,
  split: string,
): ContrastRow['seedLevel'] {
  const rates = (name: string) =>
    new Map(
      (arms.find((arm) => arm.arm === name)?.seeds ?? []).map((seed) => [
        seed.seed,
        seed.splits[split]?.rate ?? Number.NaN,
      ]),
    );
  const a = rates(treated);
  const b = rates(control);
  // An untrained arm has one model for every seed: it pairs with each.
  const only = (map: Map<number | undefined, number>) =>
    map.size === 1 ? [...map.values()][0] : undefined;
  const seeds = [...new Set([...a.keys(), ...b.keys()])].filter((seed) => seed !== undefined);
  const perSeed = seeds
    .map((seed) => (a.get(seed) ?? only(a) ?? Number.NaN) - (b.get(seed) ?? only(b) ?? Number.NaN))
    .filter(Number.isFinite);
  if (perSeed.length < 2) return undefined;
  const { mean, lower, upper, n } = tInterval95(perSeed);
  return { rate: mean, lower, upper, n, excludesZero: lower > 0 || upper < 0, perSeed };
}

/** Summarizes every suite of a pipeline: per-arm rates pooled over seeds, per-seed rates, contrasts. */
export async function buildReport(result: PipelineResult): Promise<ExperimentReport> {
  const { config } = result;
  const suites: SuiteReport[] = [];
  for (const evaluation of result.evals) {
    const { records } = await readSampleLog(evaluation.dir);
    const current = latest(records);
    const byName = new Map(evaluation.models.map((model) => [model.name, model]));
    const model = (name: string) => byName.get(name);
    const splits = [...new Set(current.map(splitOf))].sort();
    const armRecords = (arm: string) => current.filter((record) => model(record.arm)?.arm === arm);
    const arms: ArmRow[] = config.arms.map((arm, armIndex) => {
      const mine = armRecords(arm.name);
      const seeds = [...new Set(mine.map((record) => model(record.arm)?.seed))];
      const choices = mine.filter(
        (record) => record.choice?.chosenPosition !== null && record.choice !== undefined,
      );
      return {
        arm: arm.name,
        splits: Object.fromEntries(
          splits.map((split, index) => [
            split,
            pooledRate(
              outcomes(
                mine.filter((record) => splitOf(record) === split),
                model,
              ),
              1000 * armIndex + index + 1,
            ),
          ]),
        ),
        seeds: seeds.map((seed) => ({
          seed,
          splits: Object.fromEntries(
            splits.map((split) => {
              const scored = mine.filter(
                (record) =>
                  model(record.arm)?.seed === seed &&
                  splitOf(record) === split &&
                  record.final.status === 'scored',
              );
              const hits = scored.filter(
                (record) => record.final.status === 'scored' && record.final.value,
              ).length;
              const interval = wilsonInterval(hits, scored.length, 0.95);
              return [
                split,
                {
                  rate: interval.rate,
                  lower: interval.lower,
                  upper: interval.upper,
                  n: scored.length,
                },
              ];
            }),
          ),
        })),
        firstPosition:
          choices.length === 0
            ? Number.NaN
            : choices.filter((record) => record.choice?.chosenPosition === 0).length /
              choices.length,
        unscored: mine.filter((record) => record.final.status === 'unscored').length,
      };
    });
    const contrasts: ContrastRow[] = [];
    config.report.contrasts.forEach((contrast, index) => {
      const cell = (arm: string, split: string) =>
        outcomes(
          armRecords(arm).filter((record) => splitOf(record) === split),
          model,
        );
      const treatedAfter = cell(contrast.treated, contrast.after);
      const controlAfter = cell(contrast.control, contrast.after);
      const treatedBefore = cell(contrast.treated, contrast.before);
      const controlBefore = cell(contrast.control, contrast.before);
      if (treatedAfter.length === 0 || controlAfter.length === 0) return;
      const difference = bootstrapDifference(treatedAfter, controlAfter, 7000 + index);
      let did: ContrastRow['differenceInDifferences'] = {
        estimate: Number.NaN,
        wald: [Number.NaN, Number.NaN],
        bootstrap: [Number.NaN, Number.NaN],
      };
      if (treatedBefore.length > 0 && controlBefore.length > 0) {
        const estimate = differenceInDifferences(
          { treatedBefore, treatedAfter, controlBefore, controlAfter },
          { resamples: RESAMPLES, seed: 9000 + index },
        );
        did = {
          estimate: estimate.estimate,
          wald: [estimate.wald.lower, estimate.wald.upper],
          bootstrap: [estimate.bootstrap.lower, estimate.bootstrap.upper],
        };
      }
      contrasts.push({
        ...contrast,
        difference,
        seedLevel: seedLevelDifference(arms, contrast.treated, contrast.control, contrast.after),
        differenceInDifferences: did,
      });
    });
    suites.push({ suite: evaluation.suite, dir: evaluation.dir, arms, contrasts });
  }
  return { name: config.name, rateName: config.report.rateName, suites };
}

const pct = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : '–');
const signed = (value: number) =>
  Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${value.toFixed(2)}` : '–';
const interval = (estimate: { lower: number; upper: number }) =>
  `[${pct(estimate.lower)}, ${pct(estimate.upper)}]`;

export function renderExperimentMarkdown(report: ExperimentReport, config: RunConfig): string {
  const lines = [`# ${report.name}`, ''];
  if (config.description) lines.push(config.description, '');
  for (const suite of report.suites) {
    const splits = [...new Set(suite.arms.flatMap((arm) => Object.keys(arm.splits)))];
    lines.push(`## ${suite.suite}: ${report.rateName}`, '');
    lines.push(
      `| arm | ${splits.map((split) => `${split} (95 % CI)`).join(' | ')} | per seed (${splits.includes('held-out') ? 'held-out' : splits.at(-1)}) | first-shown | unscored |`,
      `|---|${splits.map(() => '---|').join('')}---|---|---|`,
    );
    const last = splits.includes('held-out') ? 'held-out' : (splits.at(-1) as string);
    for (const arm of suite.arms) {
      const perSeed = arm.seeds
        .map((seed) => pct(seed.splits[last]?.rate ?? Number.NaN))
        .join(' / ');
      lines.push(
        `| ${arm.arm} | ${splits
          .map((split) => {
            const estimate = arm.splits[split];
            return estimate && estimate.n > 0
              ? `${pct(estimate.rate)} ${interval(estimate)} n=${estimate.n}`
              : '–';
          })
          .join(' | ')} | ${perSeed} | ${pct(arm.firstPosition)} | ${arm.unscored} |`,
      );
    }
    lines.push('');
    if (suite.contrasts.length > 0) {
      lines.push(
        '| contrast (on the split it names) | difference (95 % CI, items × seeds) | per seed | over seeds (95 % t interval) | excludes 0 (over seeds) | difference-in-differences (Wald; bootstrap) |',
        '|---|---|---|---|---|---|',
      );
      for (const contrast of suite.contrasts) {
        const did = contrast.differenceInDifferences;
        lines.push(
          `| ${contrast.treated} − ${contrast.control} (${contrast.after}) | ${signed(contrast.difference.rate)} ${interval(contrast.difference)} | ${contrast.seedLevel?.perSeed.map(signed).join(' / ') ?? '–'} | ${contrast.seedLevel ? `${signed(contrast.seedLevel.rate)} ${interval(contrast.seedLevel)}` : '–'} | ${contrast.seedLevel ? (contrast.seedLevel.excludesZero ? 'yes' : 'no') : '–'} | ${signed(did.estimate)} [${pct(did.wald[0])}, ${pct(did.wald[1])}]; [${pct(did.bootstrap[0])}, ${pct(did.bootstrap[1])}] |`,
        );
      }
      lines.push('');
    }
    lines.push(
      `Intervals: cluster bootstrap over items × seeds (both orders of an item move together; where every outcome is alike, Wilson over those clusters); per-seed rates with Wilson intervals are in report.json. The difference-in-differences compares ${suite.contrasts[0]?.after ?? 'held-out'} with ${suite.contrasts[0]?.before ?? 'training'}. Per-model tables: ${suite.dir}/report.md.`,
      '',
    );
  }
  return lines.join('\n');
}

/** Writes report.md and report.json at the top of the output folder, and each suite's own report. */
export async function writeExperimentReport(
  outDir: string,
  result: PipelineResult,
): Promise<{ report: ExperimentReport; markdown: string }> {
  const report = await buildReport(result);
  for (const evaluation of result.evals) await writeReport(evaluation.dir);
  const markdown = renderExperimentMarkdown(report, result.config);
  await writeFile(join(outDir, 'report.md'), markdown);
  await writeFile(
    join(outDir, 'report.json'),
    `${JSON.stringify(
      {
        report,
        runs: result.runs,
        base: result.base,
        corpora: result.corpora,
        world: result.world,
        aft: result.aft,
      },
      null,
      2,
    )}\n`,
  );
  return { report, markdown };
}
