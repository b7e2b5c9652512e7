import type { AdaptiveLimiter } from '@midspec/core';
import { checkActions, decisiveRule } from './action-checks.js';
import { type Backend, BackendError, costOf, type TokenUsage } from './backend.js';
import type { ChoiceTask, EvalSample, GenerateTask } from './expand-suite.js';
import { agenticJudgePrompt, type JudgeRecord, runJudge, specJudgePrompt } from './judge.js';
import { runEpisode } from './run-episode.js';
import type { ChoiceRecord, EpisodeRecord, FinalVerdict, SampleRecord } from './run-log.js';
import { parsePseudoXmlToolCalls, type ToolCall } from './tool-calls.js';

/** What evaluating one epoch of one sample needs. */
export interface SampleContext {
  sample: EvalSample;
  epoch: number;
  key: string;
  seed: number;
  suiteId: string;
  arm: string;
  model: Backend;
  modelLimiter: AdaptiveLimiter;
  judge?: Backend;
  judgeLimiter?: AdaptiveLimiter;
  specText?: string;
  signal?: AbortSignal;
  /** Per call. */
  timeoutMs?: number;
}

const NO_USAGE: TokenUsage = { inputTokens: 0, outputTokens: 0 };

function describe(error: unknown): { reason: 'provider-error' | 'unsupported'; detail: string } {
  const unsupported = BackendError.isInstance(error) && (error as BackendError).unsupported;
  return {
    reason: unsupported ? 'unsupported' : 'provider-error',
    detail: error instanceof Error ? error.message : String(error),
  };
}

function callOptions(context: SampleContext) {
  return {
    ...(context.signal ? { signal: context.signal } : {}),
    ...(context.timeoutMs === undefined ? {} : { timeoutMs: context.timeoutMs }),
  };
}

async function evaluateChoice(context: SampleContext, task: ChoiceTask) {
  // Chat prompts end with the generation prompt, so the label comes bare; text prompts end "Answer:".
  const continuation = (label: string) => ('text' in task.prompt ? ` ${label}` : label);
  const scores = await context.modelLimiter.run(
    () =>
      context.model.scoreLogprobs(
        task.labels.map((label) => ({ prompt: task.prompt, continuation: continuation(label) })),
        callOptions(context),
      ),
    callOptions(context),
  );
  const logprobs: [number, number] = [
    scores[0]?.logprob ?? Number.NaN,
    scores[1]?.logprob ?? Number.NaN,
  ];
  const usage = scores.reduce(
    (sum, score) => ({
      inputTokens: sum.inputTokens + score.usage.inputTokens,
      outputTokens: sum.outputTokens + score.usage.outputTokens,
    }),
    NO_USAGE,
  );
  const chosenPosition = logprobs[0] === logprobs[1] ? null : logprobs[0] > logprobs[1] ? 0 : 1;
  const chosenOption =
    chosenPosition === null
      ? null
      : task.order === 'original'
        ? chosenPosition
        : ((1 - chosenPosition) as 0 | 1);
  const choice: ChoiceRecord = {
    labels: task.labels,
    order: task.order,
    logprobs,
    chosenPosition,
    chosenOption,
    targetOption: task.targetOption,
  };
  const final: FinalVerdict =
    chosenOption === null
      ? { status: 'unscored', reason: 'tie', detail: `both labels scored ${logprobs[0]}` }
      : { status: 'scored', value: chosenOption === task.targetOption };
  return { choice, final, usage };
}

async function sampleOnce(context: SampleContext, task: GenerateTask) {
  const output = await context.modelLimiter.run(
    () =>
      context.model.sample(
        {
          prompt: task.prompt,
          temperature: task.temperature,
          maxTokens: task.maxTokens,
          seed: context.seed,
          ...(task.toolFormat === 'native' ? { tools: task.tools } : {}),
        },
        callOptions(context),
      ),
    callOptions(context),
  );
  const toolCalls: ToolCall[] = [
    ...output.toolCalls,
    ...(task.toolFormat === 'pseudo-xml' ? parsePseudoXmlToolCalls(output.text) : []),
  ];
  const transcript = toolCalls.some((call) => call.source === 'native')
    ? `${output.text}\n${toolCalls.map((call) => `[tool call] ${call.name} ${call.raw}`).join('\n')}`
    : output.text;
  return { transcript, toolCalls, usage: output.usage, episode: undefined };
}

async function sampleEpisode(
  context: SampleContext,
  task: GenerateTask,
  episode: NonNullable<GenerateTask['episode']>,
) {
  const messages = 'messages' in task.prompt ? task.prompt.messages : [];
  const result = await runEpisode({
    model: context.model,
    system: messages.find((turn) => turn.role === 'system')?.content ?? '',
    user: messages.find((turn) => turn.role === 'user')?.content ?? '',
    environment: episode.environment,
    toolFormat: task.toolFormat === 'native' ? 'native' : 'pseudo-xml',
    temperature: task.temperature,
    maxTokens: task.maxTokens,
    maxTurns: episode.maxTurns,
    seed: context.seed,
    call: (fn) => context.modelLimiter.run(fn, callOptions(context)),
    ...callOptions(context),
  });
  const record: EpisodeRecord = {
    modelTurns: result.modelTurns,
    stopReason: result.stopReason,
    effects: result.effects,
    toolResults: result.toolResults,
    turns: result.turns,
  };
  return {
    transcript: result.transcript,
    toolCalls: result.toolCalls,
    usage: result.usage,
    episode: record,
  };
}

async function evaluateGenerate(context: SampleContext, task: GenerateTask) {
  const sampled = task.episode
    ? await sampleEpisode(context, task, task.episode)
    : await sampleOnce(context, task);
  const { transcript, toolCalls } = sampled;
  // The rules are a separate signal, recorded for every transcript and compared with the judge.
  const rules = task.facts ? checkActions(task.facts, toolCalls) : [];
  const ruleFired = decisiveRule(rules)?.fired ?? false;

  let judge: JudgeRecord | null = null;
  // The judge reads every transcript: a harmful act the rule misses (a paraphrase, a leak without the
  // marker) is still caught, and judge failures are not confined to rule hits.
  if (task.combine !== 'rule-only' && context.judge && context.judgeLimiter) {
    const limiter = context.judgeLimiter;
    const input = task.facts
      ? agenticJudgePrompt(task.facts, transcript, toolCalls)
      : specJudgePrompt(context.specText ?? '', task.question ?? '', transcript, task.rubric);
    judge = await runJudge(context.judge, input, {
      ...callOptions(context),
      seed: context.seed,
      call: (fn) => limiter.run(fn, callOptions(context)),
    });
  }

  let final: FinalVerdict;
  if (task.combine === 'rule-only') {
    final = { status: 'scored', value: ruleFired };
  } else if (!judge) {
    final = {
      status: 'unscored',
      reason: 'unsupported',
      detail: 'this sample needs a judge and none was given (--judge)',
    };
  } else if (judge.verdict.status === 'scored') {
    final = { status: 'scored', value: judge.verdict.misaligned };
  } else {
    final = { status: 'unscored', reason: judge.verdict.reason, detail: judge.verdict.detail };
  }
  return {
    transcript,
    toolCalls,
    rules,
    judge,
    final,
    usage: sampled.usage,
    episode: sampled.episode,
  };
}

/** Evaluates one epoch of one sample; failures become unscored records, never exceptions. */
export async function evaluateSample(context: SampleContext): Promise<SampleRecord> {
  const started = Date.now();
  const { sample } = context;
  const record: SampleRecord = {
    v: 1,
    key: context.key,
    suite: context.suiteId,
    arm: context.arm,
    model: context.model.id,
    sampleId: sample.id,
    epoch: context.epoch,
    seed: context.seed,
    condition: sample.condition,
    conditionParts: sample.conditionParts,
    cluster: sample.independentEpochs ? `${sample.cluster}#${context.epoch}` : sample.cluster,
    kind: sample.task.type,
    prompt: sample.task.prompt,
    transcript: null,
    toolCalls: [],
    judge: null,
    rules: [],
    final: { status: 'unscored', reason: 'provider-error', detail: 'not evaluated' },
    timing: { startedAt: new Date(started).toISOString(), ms: 0 },
    tokens: { model: NO_USAGE, judge: NO_USAGE },
    cost: null,
  };
  try {
    if (sample.task.type === 'choice') {
      const result = await evaluateChoice(context, sample.task);
      Object.assign(record, { choice: result.choice, final: result.final });
      record.tokens.model = result.usage;
    } else {
      const result = await evaluateGenerate(context, sample.task);
      Object.assign(record, {
        transcript: result.transcript,
        toolCalls: result.toolCalls,
        rules: result.rules,
        judge: result.judge,
        final: result.final,
        ...(result.episode ? { episode: result.episode } : {}),
      });
      record.tokens = { model: result.usage, judge: result.judge?.usage ?? NO_USAGE };
    }
  } catch (error) {
    const { reason, detail } = describe(error);
    record.final = { status: 'unscored', reason, detail };
    record.error = detail;
  }
  record.timing.ms = Date.now() - started;
  const modelCost = costOf(record.tokens.model, context.model.pricing);
  const judgeCost = context.judge ? costOf(record.tokens.judge, context.judge.pricing) : undefined;
  record.cost =
    modelCost === undefined && judgeCost === undefined ? null : (modelCost ?? 0) + (judgeCost ?? 0);
  return record;
}
