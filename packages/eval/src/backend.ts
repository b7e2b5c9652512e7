import { type CallOptions, hasErrorMarker, markError, type RetryAdvice } from '@midspec/core';
import type { ToolDefinition } from './agentic-scenarios.js';
import { EvaluationError } from './evaluation-error.js';
import type { ChatTurn, EvalPrompt } from './expand-suite.js';
import type { ToolCall } from './tool-calls.js';

export type { CallOptions };

export interface SampleInput {
  prompt: EvalPrompt;
  temperature: number;
  maxTokens: number;
  seed?: number;
  /** Native tools; pseudo-XML tools are already described in the prompt. */
  tools?: ToolDefinition[];
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface SampleOutput {
  text: string;
  toolCalls: ToolCall[];
  finishReason: string;
  usage: TokenUsage;
  /** The provider flagged the answer as a refusal (e.g. Anthropic's `refusal` stop reason). */
  refusal?: boolean;
}

export interface ScoreInput {
  prompt: EvalPrompt;
  continuation: string;
}

export interface ScoreOutput {
  /** Sum of the continuation tokens' natural-log probabilities. */
  logprob: number;
  continuationTokens: number;
  usage: TokenUsage;
}

/** Dollar prices per million tokens, for the cost column of the log. */
export interface Pricing {
  inputPerMillion: number;
  outputPerMillion: number;
}

/** Something that samples from and/or scores with a model. */
export interface Backend {
  /** e.g. "openai:gpt-4o-mini@https://api.openai.com/v1". */
  readonly id: string;
  /** The model name as the provider knows it. */
  readonly model: string;
  /** Backends with the same key share one concurrency limit (model and judge on one provider). */
  readonly limiterKey: string;
  readonly pricing?: Pricing;
  sample(input: SampleInput, options?: CallOptions): Promise<SampleOutput>;
  scoreLogprobs(items: ScoreInput[], options?: CallOptions): Promise<ScoreOutput[]>;
  close(): Promise<void>;
}

export interface BackendErrorOptions {
  backend: string;
  message: string;
  retryable: boolean;
  /** Set for 429s and similar: the provider asked us to slow down. */
  rateLimited?: boolean;
  retryAfterMs?: number;
  status?: number;
  /** The backend cannot do this at all (e.g. scoring on a chat-only API). */
  unsupported?: boolean;
  cause?: unknown;
}

const BACKEND_ERROR_MARKER = 'midspec.backend-error';

/** A failed backend call. Retryable ones are retried with backoff; the rest make the sample unscored. */
export class BackendError extends EvaluationError {
  readonly backend: string;
  readonly retryable: boolean;
  readonly rateLimited: boolean;
  readonly retryAfterMs: number | undefined;
  readonly status: number | undefined;
  readonly unsupported: boolean;

  constructor(options: BackendErrorOptions) {
    super({
      code: options.unsupported ? 'eval/backend-unsupported' : 'eval/backend-failed',
      message: `${options.backend}: ${options.message}`,
      cause: options.cause,
    });
    this.backend = options.backend;
    this.retryable = options.retryable;
    this.rateLimited = options.rateLimited ?? false;
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
    this.unsupported = options.unsupported ?? false;
    markError(this, BACKEND_ERROR_MARKER);
  }

  static override isInstance(error: unknown): error is BackendError {
    return hasErrorMarker(error, BACKEND_ERROR_MARKER);
  }
}

/** How the limiters retry backend calls: retryable BackendErrors, 429s slowing every caller down. */
export function backendRetryAdvice(error: unknown): RetryAdvice | undefined {
  if (!BackendError.isInstance(error)) return undefined;
  return {
    retryable: error.retryable,
    rateLimited: error.rateLimited,
    ...(error.retryAfterMs !== undefined && { retryAfterMs: error.retryAfterMs }),
  };
}

/** Renders a chat as plain text for completion-style endpoints and models without a chat template. */
export function chatAsText(messages: ChatTurn[]): string {
  const label = { system: 'System', user: 'User', assistant: 'Assistant', tool: 'Tool' } as const;
  return `${messages.map((turn) => `${label[turn.role]}: ${turn.content}`).join('\n\n')}\n\nAssistant:`;
}

export function promptText(prompt: EvalPrompt): string {
  return 'text' in prompt ? prompt.text : chatAsText(prompt.messages);
}

export function costOf(usage: TokenUsage, pricing: Pricing | undefined): number | undefined {
  if (!pricing) return undefined;
  return (
    (usage.inputTokens * pricing.inputPerMillion + usage.outputTokens * pricing.outputPerMillion) /
    1e6
  );
}
