import type { CallOptions } from '@midspec/core';
import type { Spec } from '@midspec/spec';

export type { CallOptions };

export interface ProviderMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** The pipeline stages; part of every cache key. */
export type StageName =
  | 'domains'
  | 'subdomains'
  | 'assertions'
  | 'doc-types'
  | 'ideas'
  | 'documents'
  | 'revisions'
  | 'consistency'
  | 'demo-domains'
  | 'prompts'
  | 'responses'
  | 'demo-judge';

/**
 * What the request is for, in structured form. HTTP providers send only `messages`; the offline
 * template provider answers from this, so it never has to parse a prompt.
 */
export interface TaskContext {
  stage: StageName;
  spec: Spec;
  /** How many items a list stage asks for. */
  count?: number;
  domain?: NamedItem;
  subdomain?: NamedItem;
  assertion?: NamedItem;
  docType?: NamedItem;
  idea?: NamedItem;
  /** Names already collected, on a top-up round of a list stage. */
  have?: string[];
  /** Assertions of the subdomain, for the ideas stage. */
  assertions?: NamedItem[];
  /** The text under critique or judgement. */
  text?: string;
  /** The user message a response answers (demonstrations). */
  prompt?: string;
  /** The item the prompt came from, with its principle ids (demonstrations). */
  source?: NamedItem;
  withReasoning?: boolean;
  mode?: 'values' | 'rules';
}

/** Every list stage answers with items of this one shape. */
export interface NamedItem {
  name: string;
  description: string;
  /** Principle ids the item draws on, when known. */
  principles?: string[];
}

export interface CompletionRequest {
  messages: ProviderMessage[];
  temperature: number;
  maxTokens: number;
  /** Ask for a JSON object (structured stages). */
  json?: boolean;
  /** Per-item seed, for providers that take one. */
  seed?: number;
  task: TaskContext;
}

export type FinishReason = 'stop' | 'length' | 'refusal';

export interface CompletionResult {
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens read from the provider's prompt cache (part of promptTokens), when any. */
  cacheReadTokens?: number;
  /** Prompt tokens written to the cache (Anthropic), when any. */
  cacheWriteTokens?: number;
}

/** One interface for every backend: HTTP APIs, the midspec worker and the offline template. */
export interface Provider {
  /** `template`, `openai`, `anthropic`, `worker`. */
  readonly id: string;
  readonly model: string;
  /** Requests in flight at most (the engine never exceeds it). */
  readonly defaultConcurrency: number;
  complete(request: CompletionRequest, options?: CallOptions): Promise<CompletionResult>;
  close?(): void | Promise<void>;
}
