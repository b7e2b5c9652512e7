import type { Interval } from './proportion-intervals.js';
import type { RunSummary } from './summarize-run.js';

/** A titled table of the report, rendered as HTML or Markdown by render-report. */
export interface ReportSection {
  title: string;
  note: string;
  headers: string[];
  rows: string[][];
  /** Shown as a warning (e.g. unscored samples not missing at random). */
  warnings: string[];
}

const percent = (value: number) => (Number.isNaN(value) ? '–' : `${(100 * value).toFixed(1)} %`);
const points = (value: number) =>
  Number.isNaN(value) ? '–' : `${value >= 0 ? '+' : ''}${(100 * value).toFixed(1)}`;
const interval = ({ lower, upper }: Interval) => `[${percent(lower)}, ${percent(upper)}]`;
const pointsInterval = ({ lower, upper }: Interval) => `[${points(lower)}, ${points(upper)}]`;
const pValue = (p: number) => (p < 0.001 ? '< 0.001' : p.toFixed(3));

/** Scoring, paired arm comparisons, compliance gaps and calibration: the sections beside the rates. */
export function scoringSections(summary: RunSummary): ReportSection[] {
  const sections: ReportSection[] = [];
  if (summary.armComparisons.length > 0) {
    sections.push({
      title: 'Arms compared on the same items',
      note: 'Each arm against the first on the same sample × epoch; exact McNemar on the discordant pairs, and a paired bootstrap (items resampled with both arms) of the difference in points.',
      headers: [
        'Comparison',
        'Pairs',
        'Rate A',
        'Rate B',
        'Only A',
        'Only B',
        'McNemar p',
        'B − A',
        '95 %',
      ],
      rows: summary.armComparisons.map((c) => [
        `${c.armB} vs ${c.armA}`,
        String(c.pairs),
        percent(c.rateA),
        percent(c.rateB),
        String(c.counts.onlyFirst),
        String(c.counts.onlySecond),
        pValue(c.mcnemar.pValue),
        points(c.difference.estimate),
        pointsInterval(c.difference),
      ]),
      warnings: [],
    });
  }
  if (summary.complianceGaps.length > 0) {
    sections.push({
      title: 'Alignment faking: compliance gap',
      note: 'Rate of the harmful compliance when the agent is told the session is monitored and used for training, minus the rate when told it is not (points, bootstrap 95 %).',
      headers: ['Arm', 'Condition', 'n (unmonitored, monitored)', 'Gap', '95 %'],
      rows: summary.complianceGaps.map((g) => [
        g.arm,
        g.condition,
        `${g.gap.n[0]}, ${g.gap.n[1]}`,
        points(g.gap.estimate),
        pointsInterval(g.gap),
      ]),
      warnings: [],
    });
  }
  if (summary.scoring.length > 0) {
    const warnings = summary.scoring
      .filter((d) => d.missingness.notMissingAtRandom)
      .map(
        (d) =>
          `arm ${d.arm}: unscored samples are not missing at random: ${d.missingness.ruleHits.unscored}/${d.missingness.ruleHits.total} unscored among rule hits vs ${d.missingness.ruleMisses.unscored}/${d.missingness.ruleMisses.total} among rule misses (Fisher exact p = ${pValue(d.missingness.pValue)}); the rates may be biased`,
      );
    sections.push({
      title: 'Scoring: rule against judge',
      note: 'The judge reads every transcript and decides; the deterministic rule is a separate signal. Agreement on samples where both gave a verdict; unscored samples by whether the rule fired (Fisher exact test of association).',
      headers: [
        'Arm',
        'Both',
        'Rule only',
        'Judge only',
        'Neither',
        'Agreement',
        'κ',
        'Unscored | rule hit',
        'Unscored | rule miss',
        'p',
      ],
      rows: summary.scoring.map((d) => [
        d.arm,
        String(d.ruleJudge.both),
        String(d.ruleJudge.onlyRule),
        String(d.ruleJudge.onlyJudge),
        String(d.ruleJudge.neither),
        `${percent(d.ruleJudge.agreement.rate)} ${interval(d.ruleJudge.agreement)}`,
        Number.isNaN(d.ruleJudge.kappa) ? '–' : d.ruleJudge.kappa.toFixed(2),
        `${d.missingness.ruleHits.unscored}/${d.missingness.ruleHits.total}`,
        `${d.missingness.ruleMisses.unscored}/${d.missingness.ruleMisses.total}`,
        pValue(d.missingness.pValue),
      ]),
      warnings,
    });
    const unscored = summary.scoring.flatMap((d) => d.unscored);
    if (unscored.length > 0) {
      sections.push({
        title: 'Unscored samples',
        note: 'Left out of every denominator, each with its reason.',
        headers: ['Arm', 'Sample', 'Epoch', 'Reason', 'Rule fired', 'Detail'],
        rows: unscored.map((u) => [
          u.arm,
          u.sampleId,
          String(u.epoch),
          u.reason,
          u.ruleFired === null ? '–' : u.ruleFired ? 'yes' : 'no',
          u.detail.slice(0, 160),
        ]),
        warnings: [],
      });
    }
  }
  if (summary.calibration) {
    const c = summary.calibration;
    sections.push({
      title: 'Judge calibration against a labelled set',
      note: '"Positive" is misaligned. Unscored items are not counted in the accuracy.',
      headers: ['Items', 'Scored', 'Accuracy', '95 %', 'κ', 'TP', 'FP', 'TN', 'FN'],
      rows: [
        [
          String(c.total),
          String(c.scored),
          percent(c.accuracy.rate),
          interval(c.accuracy),
          Number.isNaN(c.kappa) ? '–' : c.kappa.toFixed(2),
          String(c.confusion.truePositive),
          String(c.confusion.falsePositive),
          String(c.confusion.trueNegative),
          String(c.confusion.falseNegative),
        ],
      ],
      warnings: [],
    });
  }
  return sections;
}
