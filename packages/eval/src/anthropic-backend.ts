import Anthropic from '@anthropic-ai/sdk';
import { type CallOptions, callSignal, retryAfterFromHeaders } from '@midspec/core';
import {
  type Backend,
  BackendError,
  type Pricing,
  type SampleInput,
  type SampleOutput,
  type ScoreOutput,
} from './backend.js';
import { EvaluationError } from './evaluation-error.js';
import { nativeToolCall, type ToolCall } from './tool-calls.js';

export interface AnthropicBackendOptions {
  model: string;
  /** Default: ANTHROPIC_API_KEY. */
  apiKey?: string;
  /** Default: ANTHROPIC_BASE_URL, then the SDK's default. */
  baseUrl?: string;
  pricing?: Pricing;
  env?: NodeJS.ProcessEnv;
}

/** The Anthropic Messages API through the official SDK. Retries are ours (shared limiter), not the SDK's. */
export class AnthropicBackend implements Backend {
  readonly id: string;
  readonly model: string;
  readonly limiterKey: string;
  readonly pricing: Pricing | undefined;
  private readonly client: Anthropic;

  constructor(options: AnthropicBackendOptions) {
    const env = options.env ?? process.env;
    const apiKey = options.apiKey ?? env.ANTHROPIC_API_KEY;
    if (!apiKey) {
      throw new EvaluationError({
        code: 'eval/missing-api-key',
        message: 'Anthropic backend: no API key — pass apiKey or set ANTHROPIC_API_KEY',
      });
    }
    const baseURL = options.baseUrl ?? env.ANTHROPIC_BASE_URL;
    this.client = new Anthropic({ apiKey, ...(baseURL ? { baseURL } : {}), maxRetries: 0 });
    this.model = options.model;
    this.pricing = options.pricing;
    this.id = `anthropic:${options.model}`;
    this.limiterKey = `anthropic@${baseURL ?? 'default'}`;
  }

  async sample(input: SampleInput, options?: CallOptions): Promise<SampleOutput> {
    const messages =
      'text' in input.prompt
        ? [{ role: 'user' as const, content: input.prompt.text }]
        : input.prompt.messages;
    const system = messages
      .filter((turn) => turn.role === 'system')
      .map((turn) => turn.content)
      .join('\n\n');
    const turns = messages
      .filter((turn) => turn.role !== 'system')
      .map((turn) => ({
        role: turn.role === 'assistant' ? ('assistant' as const) : ('user' as const),
        content: turn.content,
      }));
    let message: Anthropic.Message;
    const call = callSignal(options);
    try {
      message = await this.client.messages.create(
        {
          model: this.model,
          max_tokens: input.maxTokens,
          temperature: input.temperature,
          messages: turns,
          ...(system ? { system } : {}),
          ...(input.tools && input.tools.length > 0
            ? {
                tools: input.tools.map((tool) => ({
                  name: tool.name,
                  description: tool.description,
                  input_schema: tool.parameters,
                })),
              }
            : {}),
        },
        { signal: call.signal },
      );
    } catch (error) {
      throw this.toBackendError(error);
    } finally {
      call.dispose();
    }
    const text: string[] = [];
    const toolCalls: ToolCall[] = [];
    for (const block of message.content) {
      if (block.type === 'text') text.push(block.text);
      else if (block.type === 'tool_use')
        toolCalls.push(nativeToolCall(block.name, block.input as Record<string, unknown>));
    }
    return {
      text: text.join(''),
      toolCalls,
      finishReason: message.stop_reason ?? 'unknown',
      usage: { inputTokens: message.usage.input_tokens, outputTokens: message.usage.output_tokens },
      ...(message.stop_reason === 'refusal' ? { refusal: true } : {}),
    };
  }

  async scoreLogprobs(): Promise<ScoreOutput[]> {
    throw new BackendError({
      backend: this.id,
      message:
        'the Messages API returns no log-probabilities; score preference suites with the worker, an OpenAI-compatible server or ONNX',
      retryable: false,
      unsupported: true,
    });
  }

  async close(): Promise<void> {}

  private toBackendError(error: unknown): BackendError {
    if (error instanceof Anthropic.APIError && error.status !== undefined) {
      const status = error.status;
      const retryAfterMs = retryAfterFromHeaders(error.headers as Headers | undefined);
      return new BackendError({
        backend: this.id,
        message: `Messages API answered ${status}: ${error.message}`,
        status,
        retryable: status === 429 || status >= 500 || status === 408,
        rateLimited: status === 429,
        ...(retryAfterMs !== undefined && { retryAfterMs }),
        cause: error,
      });
    }
    const aborted = error instanceof Anthropic.APIUserAbortError;
    return new BackendError({
      backend: this.id,
      message: error instanceof Error ? error.message : String(error),
      retryable: !aborted,
      cause: error,
    });
  }
}
