import type { CallOptions } from '@midspec/core';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { renderScenario } from './agentic-scenarios.js';
import type { Backend } from './backend.js';
import { EvaluationError, formatIssues } from './evaluation-error.js';
import {
  agenticJudgePrompt,
  type JudgeRecord,
  runJudge,
  specJudgePrompt,
  type UnscoredReason,
} from './judge.js';
import { type RateEstimate, wilsonInterval } from './proportion-intervals.js';
import { type AgenticSuite, scenarioNames } from './suite-schema.js';
import { parsePseudoXmlToolCalls } from './tool-calls.js';

/** A transcript with a human label, to measure the judge against. */
export const calibrationItemSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    id: z.string().min(1),
    kind: z.literal('agentic'),
    scenario: z.enum(scenarioNames),
    transcript: z.string(),
    label: z.enum(['misaligned', 'aligned']),
  }),
  z.strictObject({
    id: z.string().min(1),
    kind: z.literal('spec'),
    question: z.string().min(1),
    answer: z.string(),
    rubric: z.string().optional(),
    label: z.enum(['misaligned', 'aligned']),
  }),
]);
export type CalibrationItem = z.infer<typeof calibrationItemSchema>;

export interface AgreementReport {
  /** Labelled items. */
  total: number;
  scored: number;
  /** Items the judge gave no verdict on, by reason: not counted in accuracy, reported beside it. */
  unscored: Partial<Record<UnscoredReason, number>>;
  /** Share of scored items where the judge agrees with the label, with a Wilson interval. */
  accuracy: RateEstimate;
  /** Cohen's kappa over scored items: agreement beyond chance. */
  kappa: number;
  /** "Positive" is misaligned. */
  confusion: {
    truePositive: number;
    falsePositive: number;
    trueNegative: number;
    falseNegative: number;
  };
}

/** Accuracy, Cohen's kappa and the confusion table of verdicts (null = unscored) against labels. */
export function judgeAgreement(
  labels: readonly boolean[],
  verdicts: ReadonlyArray<boolean | null>,
  unscoredReasons: ReadonlyArray<UnscoredReason | undefined> = [],
): AgreementReport {
  if (labels.length !== verdicts.length) {
    throw new EvaluationError({
      code: 'eval/invalid-argument',
      message: `judgeAgreement: ${labels.length} labels but ${verdicts.length} verdicts`,
    });
  }
  const confusion = { truePositive: 0, falsePositive: 0, trueNegative: 0, falseNegative: 0 };
  const unscored: Partial<Record<UnscoredReason, number>> = {};
  labels.forEach((label, i) => {
    const verdict = verdicts[i];
    if (verdict === null || verdict === undefined) {
      const reason = unscoredReasons[i] ?? 'parse-failure';
      unscored[reason] = (unscored[reason] ?? 0) + 1;
    } else if (verdict && label) confusion.truePositive++;
    else if (verdict) confusion.falsePositive++;
    else if (label) confusion.falseNegative++;
    else confusion.trueNegative++;
  });
  const scored =
    confusion.truePositive +
    confusion.falsePositive +
    confusion.trueNegative +
    confusion.falseNegative;
  const agree = confusion.truePositive + confusion.trueNegative;
  const observed = scored === 0 ? Number.NaN : agree / scored;
  const judgePositive = (confusion.truePositive + confusion.falsePositive) / scored;
  const labelPositive = (confusion.truePositive + confusion.falseNegative) / scored;
  const chance = judgePositive * labelPositive + (1 - judgePositive) * (1 - labelPositive);
  const kappa =
    chance === 1 ? (observed === 1 ? 1 : Number.NaN) : (observed - chance) / (1 - chance);
  return {
    total: labels.length,
    scored,
    unscored,
    accuracy: wilsonInterval(agree, scored),
    kappa,
    confusion,
  };
}

export interface CalibrationResult extends AgreementReport {
  records: Array<{ id: string; label: 'misaligned' | 'aligned'; judge: JudgeRecord }>;
}

/** Runs the judge over a labelled set and reports how often it agrees. */
export async function calibrateJudge(
  options: {
    judge: Backend;
    items: CalibrationItem[];
    suite?: AgenticSuite;
    specText?: string;
    /** Wraps each judge call (the provider's limiter). */
    call?: <T>(fn: () => Promise<T>) => Promise<T>;
  } & CallOptions,
): Promise<CalibrationResult> {
  const records: CalibrationResult['records'] = [];
  for (const item of options.items) {
    let input: { system: string; user: string };
    if (item.kind === 'agentic') {
      const suite = options.suite;
      if (!suite)
        throw new EvaluationError({
          code: 'eval/invalid-argument',
          message: 'calibrateJudge: agentic items need the agentic suite',
        });
      const facts = renderScenario(suite, item.scenario, 'none', undefined, 'replacement').facts;
      input = agenticJudgePrompt(facts, item.transcript, parsePseudoXmlToolCalls(item.transcript));
    } else {
      if (options.specText === undefined) {
        throw new EvaluationError({
          code: 'eval/invalid-argument',
          message: 'calibrateJudge: spec items need specText',
        });
      }
      input = specJudgePrompt(options.specText, item.question, item.answer, item.rubric);
    }
    const judge = await runJudge(options.judge, input, options);
    records.push({ id: item.id, label: item.label, judge });
  }
  const verdicts = records.map((record) =>
    record.judge.verdict.status === 'scored' ? record.judge.verdict.misaligned : null,
  );
  const reasons = records.map((record) =>
    record.judge.verdict.status === 'unscored' ? record.judge.verdict.reason : undefined,
  );
  return {
    ...judgeAgreement(
      records.map((record) => record.label === 'misaligned'),
      verdicts,
      reasons,
    ),
    records,
  };
}

/** Parses a labelled set (YAML or JSON: a list of calibration items); every problem is listed with its path. */
export function parseCalibrationSet(text: string, file?: string): CalibrationItem[] {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (cause) {
    throw new EvaluationError({
      code: 'eval/invalid-calibration-set',
      message: `${file ?? 'the calibration set'} is not valid YAML`,
      cause,
    });
  }
  const result = z.array(calibrationItemSchema).min(1).safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  throw new EvaluationError({
    code: 'eval/invalid-calibration-set',
    message: `${file ?? 'the calibration set'} has ${issues.length} problem(s):\n${formatIssues(issues, file)}`,
    issues,
  });
}
