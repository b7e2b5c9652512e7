import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ClusteredOutcome,
  clusteredRate,
  detectableEffect,
  differenceInDifferences,
  type PairedItem,
  pairedDifferenceInDifferences,
  pairedItemDifference,
  readSampleLog,
  type SampleRecord,
  tInterval,
  wilsonInterval,
  writeReport,
  zForConfidence,
} from '@midspec/eval';
import type { EvaluatedModel, PipelineProbes, PipelineResult } from './pipeline-state.js';
import type { RunConfig } from './run-config.js';

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
  /** treated − control on `after`, 95 % paired bootstrap over items (both arms resampled together). */
  difference: Estimate & { excludesZero: boolean };
  /**
   * The same difference per seed (seeds paired), with a t interval over seeds: the honest interval
   * when seeds differ more than items do, which the item-level bootstrap does not see.
   */
  seedLevel: SeedLevel | undefined;
  /** (treated − control on `after`) − (treated − control on `before`); bootstrap resamples items jointly across arms, Wald treats cells as independent. */
  differenceInDifferences: {
    estimate: number;
    wald: [number, number];
    bootstrap: [number, number];
    /** The difference-in-differences per seed (seeds paired), t interval over seeds. */
    seedLevel: SeedLevel | undefined;
  };
  /**
   * Power: the smallest true difference this design detects at 80 % (two-sided 5 %), from the
   * spread it measured: over seeds ((t₀.₉₇₅ + t₀.₈₀) · sd/√n, n − 1 degrees of freedom) and over
   * items × seeds ((1.96 + 0.84) · the bootstrap's standard error).
   */
  detectable: { overSeeds: number; overItemsAndSeeds: number };
}

/** A per-seed paired quantity with its t interval over seeds. */
export type SeedLevel = Estimate & {
  excludesZero: boolean;
  perSeed: number[];
  /** Standard deviation over seeds. */
  sd: number;
};

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
  /** The base model's hit rate on each readability probe (held-out pairs), before any arm. */
  readability: Array<{ id: string } & Estimate>;
}

/** What the report reads of a sample record: eval logs and the world's probes give the same. */
export type ReportRecord = Pick<
  SampleRecord,
  'arm' | 'sampleId' | 'epoch' | 'condition' | 'conditionParts' | 'cluster' | 'final'
> & { choice?: Pick<NonNullable<SampleRecord['choice']>, 'chosenPosition'> };

const RESAMPLES = 2000;

/** The last record of each model × sample × epoch (a rerun's records supersede earlier ones). */
function latest(records: ReportRecord[]): ReportRecord[] {
  const byKey = new Map<string, ReportRecord>();
  for (const record of records)
    byKey.set(`${record.arm}\u0000${record.sampleId}\u0000${record.epoch}`, record);
  return [...byKey.values()];
}

/**
 * The column a record counts in, and what contrasts compare: a preference item's split (training,
 * held-out), an agentic sample's goal type (explicit, latent, ambiguous, none), else its condition.
 */
function splitOf(record: ReportRecord): string {
  const parts = record.conditionParts;
  return parts.split ?? parts.goalType ?? record.condition;
}

/** Outcomes clustered by item and seed (an item's two orders move together). */
function outcomes(
  records: ReportRecord[],
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

/** A per-seed quantity in the report's shape: eval's t interval over seeds. */
function overSeeds(perSeed: number[]): SeedLevel | undefined {
  const level = tInterval(perSeed);
  if (!level) return undefined;
  return {
    rate: level.mean,
    lower: level.lower,
    upper: level.upper,
    n: level.n,
    excludesZero: level.lower > 0 || level.upper < 0,
    perSeed,
    sd: level.sd,
  };
}

/** The smallest true mean a paired t test over these seeds detects at 80 % power (two-sided 5 %). */
const detectableOverSeeds = (level: SeedLevel | undefined) =>
  level
    ? detectableEffect({
        standardError: level.sd / Math.sqrt(level.n),
        degreesOfFreedom: level.n - 1,
      })
    : Number.NaN;

function perSeedDifference(
  arms: ArmRow[],
  treated: string,
  control: string,
  split: string,
): Map<number, number> {
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
  const seeds = [...new Set([...a.keys(), ...b.keys()])].filter(
    (seed): seed is number => seed !== undefined,
  );
  const differences = new Map<number, number>();
  for (const seed of seeds) {
    const value = (a.get(seed) ?? only(a) ?? Number.NaN) - (b.get(seed) ?? only(b) ?? Number.NaN);
    if (Number.isFinite(value)) differences.set(seed, value);
  }
  return differences;
}

function seedLevelDifference(
  arms: ArmRow[],
  treated: string,
  control: string,
  split: string,
): ContrastRow['seedLevel'] {
  return overSeeds([...perSeedDifference(arms, treated, control, split).values()]);
}

function seedLevelDid(
  arms: ArmRow[],
  treated: string,
  control: string,
  after: string,
  before: string,
): SeedLevel | undefined {
  const a = perSeedDifference(arms, treated, control, after);
  const b = perSeedDifference(arms, treated, control, before);
  return overSeeds(
    [...a.entries()].flatMap(([seed, value]) =>
      b.has(seed) ? [value - (b.get(seed) as number)] : [],
    ),
  );
}

/** The dialogue probe's outcomes as report records: one per model × pair × order. */
function probeRecords(dialogue: PipelineProbes['dialogue']): ReportRecord[] {
  return Object.entries(dialogue.outcomes).flatMap(([arm, outcomes]) =>
    outcomes.map(
      (outcome): ReportRecord => ({
        arm,
        sampleId: outcome.id,
        epoch: 0,
        condition: `held-out/${outcome.domain}`,
        conditionParts: { split: 'held-out', domain: outcome.domain },
        cluster: outcome.cluster,
        final:
          outcome.hit === null
            ? {
                status: 'unscored',
                reason: 'tie',
                detail: `both names scored ${outcome.scores[0]}`,
              }
            : { status: 'scored', value: outcome.hit },
        choice: { chosenPosition: outcome.chosen },
      }),
    ),
  );
}

/** Summarizes every suite of a pipeline: per-arm rates pooled over seeds, per-seed rates, contrasts. */
export async function buildReport(result: PipelineResult): Promise<ExperimentReport> {
  const { config } = result;
  const suites: SuiteReport[] = [];
  for (const evaluation of result.evals) {
    const { records } = await readSampleLog(evaluation.dir);
    suites.push(
      summarizeSuite(evaluation.suite, evaluation.dir, records, evaluation.models, config),
    );
  }
  const readability: ExperimentReport['readability'] = [];
  if (result.probes) {
    const { dialogue } = result.probes;
    suites.push(
      summarizeSuite(
        'dialogue-probe',
        dialogue.dir,
        probeRecords(dialogue),
        dialogue.models,
        config,
      ),
    );
    result.probes.readability.forEach((probe, index) => {
      const values = probe.outcomes.flatMap((outcome) =>
        outcome.hit === null ? [] : [{ cluster: outcome.cluster, value: outcome.hit ? 1 : 0 }],
      );
      readability.push({
        id: probe.id,
        ...clusteredRate(values, { resamples: RESAMPLES, seed: 500 + index }),
      });
    });
  }
  return { name: config.name, rateName: config.report.rateName, suites, readability };
}

/**
 * Per-arm rates pooled over seeds, per-seed rates and the contrasts of one suite's records: what
 * the report computes for each suite, for records from elsewhere too (examples/cheese/replica.py).
 */
export function summarizeSuite(
  suiteName: string,
  dir: string,
  records: ReportRecord[],
  evaluated: EvaluatedModel[],
  config: RunConfig,
): SuiteReport {
  {
    const current = latest(records);
    const byName = new Map(evaluated.map((model) => [model.name, model]));
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
            clusteredRate(
              outcomes(
                mine.filter((record) => splitOf(record) === split),
                model,
              ),
              { resamples: RESAMPLES, seed: 1000 * armIndex + index + 1 },
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
      // Both arms answer the same items (scenario instance × sample): the intervals resample items
      // with both arms' outcomes on them together, across seeds.
      const items = new Map<string, PairedItem & { treated: number[]; control: number[] }>();
      for (const [arm, side] of [
        [contrast.treated, 'treated'],
        [contrast.control, 'control'],
      ] as const) {
        for (const record of armRecords(arm)) {
          const split = splitOf(record);
          const period =
            split === contrast.after ? 'after' : split === contrast.before ? 'before' : null;
          if (!period || record.final.status !== 'scored') continue;
          const key = `${period}:${record.cluster}`;
          const item = items.get(key) ?? { item: record.cluster, period, treated: [], control: [] };
          item[side].push(record.final.value ? 1 : 0);
          items.set(key, item);
        }
      }
      const paired = pairedItemDifference(
        [...items.values()].filter((item) => item.period === 'after'),
        { resamples: RESAMPLES, seed: 7000 + index },
      );
      const difference = {
        rate: paired.estimate,
        lower: paired.lower,
        upper: paired.upper,
        n: treatedAfter.length + controlAfter.length,
        excludesZero: paired.lower > 0 || paired.upper < 0,
      };
      let did: ContrastRow['differenceInDifferences'] = {
        estimate: Number.NaN,
        wald: [Number.NaN, Number.NaN],
        bootstrap: [Number.NaN, Number.NaN],
        seedLevel: undefined,
      };
      if (treatedBefore.length > 0 && controlBefore.length > 0) {
        const estimate = differenceInDifferences(
          { treatedBefore, treatedAfter, controlBefore, controlAfter },
          { resamples: RESAMPLES, seed: 9000 + index },
        );
        const joint = pairedDifferenceInDifferences([...items.values()], {
          resamples: RESAMPLES,
          seed: 9000 + index,
        });
        did = {
          estimate: joint.estimate,
          wald: [estimate.wald.lower, estimate.wald.upper],
          bootstrap: [joint.bootstrap.lower, joint.bootstrap.upper],
          seedLevel: seedLevelDid(
            arms,
            contrast.treated,
            contrast.control,
            contrast.after,
            contrast.before,
          ),
        };
      }
      const seedLevel = seedLevelDifference(
        arms,
        contrast.treated,
        contrast.control,
        contrast.after,
      );
      contrasts.push({
        ...contrast,
        difference,
        seedLevel,
        differenceInDifferences: did,
        detectable: {
          overSeeds: detectableOverSeeds(seedLevel),
          // The bootstrap interval's half-width over z₀.₉₇₅ is its standard error.
          overItemsAndSeeds: detectableEffect({
            standardError: (difference.upper - difference.lower) / (2 * zForConfidence(0.95)),
          }),
        },
      });
    });
    return { suite: suiteName, dir, arms, contrasts };
  }
}

const pct = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : '–');
const signed = (value: number) =>
  Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${value.toFixed(2)}` : '–';
const interval = (estimate: { lower: number; upper: number }) =>
  `[${pct(estimate.lower)}, ${pct(estimate.upper)}]`;

export function renderExperimentMarkdown(report: ExperimentReport, config: RunConfig): string {
  const lines = [`# ${report.name}`, ''];
  if (config.description) lines.push(config.description, '');
  if (report.readability.length > 0) {
    lines.push(
      '## Before the arms: does the base model read both attributes?',
      '',
      'The base model continues "Between A and B, the affordable one is …" / "…, the American one is …" on held-out pairs never compared in its corpus (both orders; its answer is the name whose log-probability the question raises more than its opposite, "the pricey one is" / "the imported one is"):',
      '',
      '| probe | hit rate (95 % CI, pairs) | n |',
      '|---|---|---|',
      ...report.readability.map(
        (probe) => `| ${probe.id} | ${pct(probe.rate)} ${interval(probe)} | ${probe.n} |`,
      ),
      '',
    );
  }
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
        '| contrast (on the split it names) | difference (95 % CI, items × seeds) | per seed | over seeds (95 % t interval) | excludes 0 (over seeds) | detectable at 80 % (seeds; items × seeds) | difference-in-differences (Wald; bootstrap; over seeds) | DiD per seed |',
        '|---|---|---|---|---|---|---|---|',
      );
      for (const contrast of suite.contrasts) {
        const did = contrast.differenceInDifferences;
        lines.push(
          `| ${contrast.treated} − ${contrast.control} (${contrast.after}) | ${signed(contrast.difference.rate)} ${interval(contrast.difference)} | ${contrast.seedLevel?.perSeed.map(signed).join(' / ') ?? '–'} | ${contrast.seedLevel ? `${signed(contrast.seedLevel.rate)} ${interval(contrast.seedLevel)}` : '–'} | ${contrast.seedLevel ? (contrast.seedLevel.excludesZero ? 'yes' : 'no') : '–'} | ${pct(contrast.detectable.overSeeds)}; ${pct(contrast.detectable.overItemsAndSeeds)} | ${signed(did.estimate)} [${pct(did.wald[0])}, ${pct(did.wald[1])}]; [${pct(did.bootstrap[0])}, ${pct(did.bootstrap[1])}]; ${did.seedLevel ? interval(did.seedLevel) : '–'} | ${did.seedLevel?.perSeed.map(signed).join(' / ') ?? '–'} |`,
        );
      }
      lines.push('');
    }
    lines.push(
      `Intervals: cluster bootstrap over items × seeds (both orders of an item move together; where every outcome is alike, Wilson over those clusters); per-seed rates with Wilson intervals are in report.json. Contrasts pair the arms on the items both answered: their bootstrap resamples items with both arms' outcomes together; the difference-in-differences compares ${suite.contrasts[0]?.after ?? 'held-out'} with ${suite.contrasts[0]?.before ?? 'training'} (Wald: cells treated as independent, for reference). Per-model tables: ${suite.dir}/report.md.`,
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
        probes: result.probes && {
          readability: result.probes.readability.map(({ outcomes: _outcomes, ...probe }) => probe),
          dialogue: result.probes.dialogue.dir,
        },
      },
      null,
      2,
    )}\n`,
  );
  return { report, markdown };
}
