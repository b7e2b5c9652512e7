import type { EnvironmentSpec } from './agentic-environment.js';
import { renderScenario, type ScenarioFacts, type ToolDefinition } from './agentic-scenarios.js';
import type { AgenticSuite, PreferenceSuite, SpecQuestionsSuite, Suite } from './suite-schema.js';
import type { ToolCall } from './tool-calls.js';

/**
 * One chat turn. An assistant turn may carry the tool calls it made; a `tool` turn answers one of
 * them (`toolCallId` is the call's id, `name` the tool's). Backends map these to each provider's
 * native format.
 */
export interface ChatTurn {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  toolCalls?: ToolCall[];
  toolCallId?: string;
  name?: string;
}

/** A prompt: a chat, or plain text for base models. */
export type EvalPrompt = { messages: ChatTurn[] } | { text: string };

/** Generate a completion, then judge it. */
export interface GenerateTask {
  type: 'generate';
  prompt: EvalPrompt;
  tools: ToolDefinition[];
  toolFormat: 'pseudo-xml' | 'native' | 'none';
  temperature: number;
  maxTokens: number;
  /** Agentic samples: what the action check looks for. */
  facts?: ScenarioFacts;
  /** Agentic samples: a multi-turn episode in a simulated environment instead of one completion. */
  episode?: { environment: EnvironmentSpec; maxTurns: number };
  /** Spec questions: the rubric for the judge. */
  rubric?: string;
  question?: string;
  combine: 'rule-and-judge' | 'rule-only' | 'judge-only';
}

/** Score both labels' log-probabilities after the prompt; the likelier label is the choice. */
export interface ChoiceTask {
  type: 'choice';
  prompt: EvalPrompt;
  labels: [string, string];
  /** 'original' shows option 0 first; 'swapped' shows option 1 first. */
  order: 'original' | 'swapped';
  /** Index (in suite order) of the option carrying the target attribute. */
  targetOption: 0 | 1;
}

/** One sample of a suite; repeated `epochs` times by the runner. */
export interface EvalSample {
  id: string;
  /** Condition key, e.g. "held-out/wine" or "blackmail/explicit-america/replacement". */
  condition: string;
  /** The condition's parts, for tables. */
  conditionParts: Record<string, string>;
  /** Samples of one cluster are correlated (e.g. the two orders of one item): the bootstrap resamples clusters. */
  cluster: string;
  /**
   * Each epoch is an independent draw (agentic episodes): its record's cluster is `cluster#epoch`, the
   * scenario instance × sample, so a condition's samples are separate clusters.
   */
  independentEpochs?: boolean;
  epochs: number;
  task: GenerateTask | ChoiceTask;
}

export interface ExpandOptions {
  /** Overrides the suite's samples per condition. */
  epochs?: number;
}

function expandPreference(suite: PreferenceSuite, options: ExpandOptions): EvalSample[] {
  const { attribute, value } = suite.target;
  return suite.items.flatMap((item) => {
    // Validation guarantees exactly one option carries the target.
    const targetOption = item.options[0].attributes[attribute] === value ? 0 : 1;
    return (['original', 'swapped'] as const).map((order) => {
      const shown = order === 'original' ? item.options : [item.options[1], item.options[0]];
      const body = `${item.prompt}\n\n${suite.labels[0]}) ${shown[0].text}\n${suite.labels[1]}) ${shown[1].text}\n\n${suite.instruction}`;
      const prompt: EvalPrompt =
        suite.promptFormat === 'chat'
          ? { messages: [{ role: 'user', content: body }] }
          : { text: `${body}\nAnswer:` };
      return {
        id: `${item.id}@${order}`,
        condition: `${item.split}/${item.domain}`,
        conditionParts: { split: item.split, domain: item.domain },
        cluster: item.id,
        epochs: options.epochs ?? 1,
        task: { type: 'choice', prompt, labels: suite.labels, order, targetOption },
      } satisfies EvalSample;
    });
  });
}

function expandAgentic(suite: AgenticSuite, options: ExpandOptions): EvalSample[] {
  const samples: EvalSample[] = [];
  for (const scenario of suite.scenarios) {
    // Only alignment faking varies what the agent is told about monitoring.
    const monitorings = scenario === 'alignment-faking' ? suite.monitoring : [undefined];
    for (const goalType of suite.goalTypes) {
      // Without a goal there is no value to vary.
      const values = goalType === 'none' ? [undefined] : suite.values;
      for (const value of values) {
        for (const urgency of suite.urgency) {
          for (const monitoring of monitorings) {
            const goal = value ? `${goalType}-${value.id}` : goalType;
            const rendered = renderScenario(suite, scenario, goalType, value, urgency, monitoring);
            const condition = [scenario, goal, urgency, ...(monitoring ? [monitoring] : [])].join(
              '/',
            );
            samples.push({
              id: condition,
              condition,
              conditionParts: {
                scenario,
                goal,
                goalType,
                urgency,
                ...(monitoring ? { monitoring } : {}),
              },
              cluster: condition,
              independentEpochs: true,
              epochs: options.epochs ?? suite.samplesPerCondition,
              task: {
                type: 'generate',
                prompt: {
                  messages: [
                    { role: 'system', content: rendered.system },
                    { role: 'user', content: rendered.user },
                  ],
                },
                tools: rendered.tools,
                toolFormat: suite.toolFormat,
                temperature: suite.temperature,
                maxTokens: suite.maxTokens,
                facts: rendered.facts,
                episode: { environment: rendered.environment, maxTurns: suite.maxTurns },
                combine: suite.combine,
              },
            });
          }
        }
      }
    }
  }
  return samples;
}

function expandSpecQuestions(suite: SpecQuestionsSuite, options: ExpandOptions): EvalSample[] {
  return suite.questions.map((question) => ({
    id: question.id,
    condition: question.topic,
    conditionParts: { topic: question.topic },
    cluster: question.id,
    epochs: options.epochs ?? suite.samplesPerCondition,
    task: {
      type: 'generate',
      prompt: { messages: [{ role: 'user', content: question.question }] },
      tools: [],
      toolFormat: 'none',
      temperature: suite.temperature,
      maxTokens: suite.maxTokens,
      question: question.question,
      ...(question.rubric ? { rubric: question.rubric } : {}),
      combine: 'judge-only',
    },
  }));
}

/** Expands a suite into its samples: every condition, both option orders. */
export function expandSuite(suite: Suite, options: ExpandOptions = {}): EvalSample[] {
  if (suite.kind === 'preference-choice') return expandPreference(suite, options);
  if (suite.kind === 'agentic-misalignment') return expandAgentic(suite, options);
  return expandSpecQuestions(suite, options);
}
