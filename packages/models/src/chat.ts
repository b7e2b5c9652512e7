import type { CallOptions } from '@midspec/core';

export type { CallOptions };

/**
 * A tool call as the model made it. `id` is the provider's call id (OpenAI `tool_calls[].id`,
 * Anthropic `tool_use.id`); a tool turn answering it carries the same id as `toolCallId`.
 */
export interface ModelToolCall {
  id?: string;
  name: string;
  /** The arguments as the model wrote them (a JSON object, as text). */
  arguments: string;
}

/** One turn of a chat in the shape every client maps to its provider's native format. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  /** Assistant turns: the tool calls the model made. */
  toolCalls?: ModelToolCall[];
  /** Tool turns: the call this result answers. */
  toolCallId?: string;
  /** Tool turns: the tool's name (Anthropic and OpenAI infer it from the id; the worker shows it). */
  name?: string;
}

/** A function the model may call: a JSON-Schema object for its parameters. */
export interface ModelTool {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface ChatRequest {
  messages: ChatMessage[];
  temperature: number;
  maxTokens: number;
  /** Sent where the provider takes one (OpenAI-compatible servers, the worker). */
  seed?: number;
  /** Ask for one JSON object (OpenAI `response_format`; elsewhere the prompt must say so). */
  json?: boolean;
  tools?: ModelTool[];
  /** Return each sampled token's log-probability, with this many alternatives (0: none). */
  topLogprobs?: number;
  logprobs?: boolean;
}

export type FinishReason = 'stop' | 'length' | 'tool-calls' | 'refusal' | 'other';

/** Tokens as the provider billed them. Cache reads and writes are part of `inputTokens`. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Prompt tokens served from the provider's prompt cache (billed at the cached rate). */
  cacheReadTokens: number;
  /** Prompt tokens written to the cache (Anthropic bills them at 1.25× the input rate). */
  cacheWriteTokens: number;
}

export interface TokenLogprob {
  token: string;
  logprob: number;
  top?: { token: string; logprob: number }[];
}

export interface ChatResult {
  text: string;
  toolCalls: ModelToolCall[];
  finishReason: FinishReason;
  /** The provider's own word for why it stopped (`end_turn`, `tool_calls`, …). */
  rawFinishReason: string;
  /** The provider flagged the answer as a refusal (OpenAI `refusal`, Anthropic `refusal` stop). */
  refusal: boolean;
  usage: Usage;
  logprobs?: TokenLogprob[];
}

/** A plain-text (completion-style) prompt. */
export interface TextRequest {
  prompt: string;
  temperature: number;
  maxTokens: number;
  seed?: number;
}

export interface ContinuationScore {
  /** Sum of the continuation tokens' natural-log probabilities. */
  logprob: number;
  continuationTokens: number;
  inputTokens: number;
}

/**
 * One model behind one provider. `chat` is always there; the rest only where the provider can do it
 * (Anthropic returns no log-probabilities; only the worker and OpenAI-compatible servers with
 * `echo` score continuations).
 */
export interface ModelClient {
  /** `openai`, `anthropic`, `worker`, `scripted`. */
  readonly provider: string;
  readonly model: string;
  /** e.g. `openai:gpt-4.1-mini@https://api.openai.com/v1`. */
  readonly id: string;
  /** Clients with the same key share one rate limit (one provider account/endpoint). */
  readonly limiterKey: string;
  chat(request: ChatRequest, options?: CallOptions): Promise<ChatResult>;
  completeText?(request: TextRequest, options?: CallOptions): Promise<ChatResult>;
  scoreContinuations?(
    items: { prompt: string; continuation: string }[],
    options?: CallOptions,
  ): Promise<ContinuationScore[]>;
  /** Input tokens of each request exactly as it would be sent (a provider's count endpoint). */
  countTokens?(requests: ChatRequest[], options?: CallOptions): Promise<number[]>;
  close(): Promise<void>;
}

export function emptyUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
}
