import { resolve } from 'node:path';
import { previewCorpus } from '@midspec/docgen';
import { expandSuite, loadSuite } from '@midspec/eval';
import { loadSpec, type Spec } from '@midspec/spec';
import { type ExperimentStep, experimentSteps } from './experiment-steps.js';
import { type ExperimentSource, resolveExperiment } from './resolve-experiment.js';
import type { RunConfig } from './run-config.js';
import { sharedStagePrefixes } from './run-shared-stages.js';
import { buildWorld, entitiesOf, neutralDocuments } from './run-world.js';

export interface PlanLine {
  /** The step's id from `experimentSteps` (the arms step has a line per arm). */
  step: string;
  label: string;
  detail: string;
  tokens: number | undefined;
  steps: number | undefined;
  costUsd: number | undefined;
}

export interface ExperimentPlan {
  lines: PlanLine[];
  totalTrainingSteps: number;
  totalCostUsd: number | undefined;
  evaluatedModels: number;
}

/** Rows of `maxLength` tokens, four to a step (the worker's default micro-batch), for one epoch. */
function projectedSteps(
  tokens: number,
  stage: {
    packing?: { maxLength?: number };
    budget?: { maxSteps?: number; epochs?: number };
    microBatchSize?: number;
  },
): number {
  if (stage.budget?.maxSteps) return stage.budget.maxSteps;
  const rows = Math.ceil(tokens / (stage.packing?.maxLength ?? 512));
  return Math.ceil((rows * (stage.budget?.epochs ?? 1)) / (stage.microBatchSize || 4));
}

/**
 * What `runExperiment` would do, step by step (the same step list it runs), with projected tokens,
 * training steps and API cost; runs nothing and contacts no worker.
 */
export async function planExperiment(experiment: ExperimentSource): Promise<ExperimentPlan> {
  const loaded = await resolveExperiment(experiment);
  const { config, baseDir } = loaded;
  const lines: PlanLine[] = [];
  const specs = new Map<string, Spec>();
  for (const entry of config.specs)
    specs.set(entry.name, (await loadSpec(resolve(baseDir, entry.file))).spec);
  const datasetTokens = new Map<string, number>();
  let totalCost: number | undefined = 0;
  let totalSteps = 0;
  let evaluatedModels = 0;
  const line = (step: ExperimentStep, detail: string, more: Partial<PlanLine> = {}) =>
    lines.push({
      step: step.id,
      label: step.label,
      detail,
      tokens: undefined,
      steps: undefined,
      costUsd: 0,
      ...more,
    });

  for (const step of experimentSteps(config)) {
    switch (step.kind) {
      case 'specs':
        line(step, `${specs.size} specs valid`);
        break;
      case 'world': {
        const settings = config.world as NonNullable<RunConfig['world']>;
        const world = buildWorld(settings, entitiesOf([...specs.values()]));
        const tokens = Math.round(
          neutralDocuments(world, settings).reduce((sum, doc) => sum + doc.text.length, 0) / 4,
        );
        datasetTokens.set('neutral', tokens);
        datasetTokens.set('aft', settings.aftExamples * 60);
        line(
          step,
          `${world.items.length} items, ${settings.neutralDocuments} neutral documents, ${settings.aftExamples} AFT chats`,
          { tokens },
        );
        break;
      }
      case 'corpus': {
        const name = step.id.slice('corpus:msm-'.length);
        const preview = await previewCorpus({
          spec: specs.get(name) as Spec,
          provider: {
            id: config.corpus.provider,
            model: config.corpus.model ?? config.corpus.provider,
          },
          config: config.corpus.config,
          // The template provider writes documents of about 700 tokens.
          ...(config.corpus.provider === 'template' && { documentTokens: 700 }),
        });
        const documents = preview.levels.at(-1)?.items ?? 0;
        const cost = config.corpus.provider === 'template' ? 0 : preview.costUsd;
        totalCost = totalCost === undefined || cost === undefined ? undefined : totalCost + cost;
        datasetTokens.set(`msm-${name}`, preview.levels.at(-1)?.completionTokens ?? 0);
        line(step, `${documents} documents`, {
          // The template provider reads no prompt: only what it writes counts.
          tokens:
            config.corpus.provider === 'template'
              ? preview.completionTokens
              : preview.promptTokens + preview.completionTokens,
          costUsd: cost,
        });
        break;
      }
      case 'chunks':
        line(step, 'the corpus cut at paragraph boundaries (the same tokens)');
        break;
      case 'demonstrations': {
        const provider =
          config.demonstrations?.source === 'spec' ? config.demonstrations : undefined;
        const cost = provider?.provider === 'template' ? 0 : undefined;
        if (cost === undefined) totalCost = undefined;
        line(step, `chats written by ${provider?.provider ?? 'the world'}`, { costUsd: cost });
        break;
      }
      case 'base': {
        const pretrain = config.base.pretrain as NonNullable<RunConfig['base']['pretrain']>;
        const steps = projectedSteps(datasetTokens.get('neutral') ?? 0, pretrain);
        totalSteps += steps;
        line(step, 'full fine-tuning', {
          tokens: datasetTokens.get('neutral'),
          steps,
        });
        break;
      }
      case 'arms': {
        const shared = sharedStagePrefixes(config.arms);
        for (const arm of config.arms) {
          const from = shared.get(arm.name);
          if (from) {
            evaluatedModels += config.seeds.length;
            lines.push({
              step: step.id,
              label: `arm ${arm.name}`,
              detail: `${from.source}'s runs at the end of stage ${from.stages} (not trained again)`,
              tokens: 0,
              steps: 0,
              costUsd: 0,
            });
            continue;
          }
          let steps = 0;
          let tokens = 0;
          for (const stage of arm.stages) {
            const stageTokens = stage.data.reduce<number>(
              (sum, source) =>
                sum +
                (datasetTokens.get(typeof source === 'string' ? source : source.dataset) ?? 0),
              0,
            );
            tokens += stageTokens;
            steps += projectedSteps(stageTokens, {
              ...config.stageDefaults?.[stage.kind],
              ...stage,
            });
          }
          const runs = arm.stages.length === 0 ? 0 : config.seeds.length;
          evaluatedModels += arm.stages.length === 0 ? 1 : config.seeds.length;
          totalSteps += steps * runs;
          lines.push({
            step: step.id,
            label: `arm ${arm.name}`,
            detail:
              arm.stages.length === 0
                ? 'the base model, untrained'
                : `${arm.stages.map((stage) => stage.kind).join(' → ')} × ${runs} seeds`,
            tokens: tokens * runs,
            steps: steps * runs,
            costUsd: 0,
          });
        }
        break;
      }
      case 'eval': {
        const entry = config.evals[
          Number(step.id.slice('eval:'.length))
        ] as RunConfig['evals'][number];
        let detail = `${evaluatedModels} models`;
        if ('file' in entry) {
          // What a model is asked: the suite's samples (the first `limit`) × epochs, each answer capped.
          const { suite } = await loadSuite(resolve(baseDir, entry.file));
          const samples = expandSuite(suite, {
            ...(entry.epochs !== undefined && { epochs: entry.epochs }),
          }).slice(0, entry.limit);
          const answers = samples.reduce((sum, sample) => sum + sample.epochs, 0);
          const maxTokens =
            suite.kind === 'preference-choice' ? undefined : (entry.maxTokens ?? suite.maxTokens);
          detail += ` × ${answers} answers${maxTokens === undefined ? '' : ` of ≤ ${maxTokens} tokens`}`;
        }
        line(step, detail);
        break;
      }
      case 'probe':
        line(
          step,
          step.id === 'probe:readability'
            ? 'the base model: 2 probes × held-out pairs × both orders'
            : `${evaluatedModels} models × held-out pairs × both orders`,
        );
        break;
      case 'report':
        line(step, 'report.md and report.json');
        break;
    }
  }
  return { lines, totalTrainingSteps: totalSteps, totalCostUsd: totalCost, evaluatedModels };
}

export function formatExperimentPlan(plan: ExperimentPlan, config: RunConfig): string {
  const rows = plan.lines.map((line) => [
    line.label,
    line.detail,
    line.tokens === undefined ? '' : `~${line.tokens.toLocaleString('en-US')}`,
    line.steps === undefined ? '' : String(line.steps),
    line.costUsd === undefined ? '?' : `$${line.costUsd.toFixed(2)}`,
  ]);
  const header = ['STEP', 'WHAT', 'TOKENS', 'STEPS', 'API COST'];
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] as string).length)),
  );
  const format = (row: string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  const seconds = config.report.stepsPerSecond
    ? plan.totalTrainingSteps / config.report.stepsPerSecond
    : undefined;
  return [
    format(header),
    ...rows.map(format),
    '',
    `${plan.totalTrainingSteps} training steps${seconds === undefined ? '' : ` (~${Math.ceil(seconds / 60)} min at ${config.report.stepsPerSecond} steps/s)`}, ${plan.evaluatedModels} models evaluated, API cost ${plan.totalCostUsd === undefined ? 'unknown (no price for the model)' : `$${plan.totalCostUsd.toFixed(2)}`}`,
    'Tokens are projections (4 characters a token); nothing was generated, trained or sent.',
    '',
  ].join('\n');
}
