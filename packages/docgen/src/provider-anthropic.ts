import Anthropic from '@anthropic-ai/sdk';
import { callSignal, parseRetryAfter } from '@midspec/core';
import { loadApiKey } from './api-key.js';
import { isRetryableStatus, ProviderError } from './docgen-error.js';
import type { CallOptions, CompletionRequest, CompletionResult, Provider } from './provider.js';

export interface AnthropicProviderOptions {
  model: string;
  /** Default ANTHROPIC_API_KEY. */
  apiKey?: string;
  env?: NodeJS.ProcessEnv;
  /** Default https://api.anthropic.com. */
  baseUrl?: string;
  concurrency?: number;
}

/** Anthropic Messages through the official SDK; the engine owns retries, so the SDK makes none. */
export function createAnthropicProvider(options: AnthropicProviderOptions): Provider {
  const apiKey = loadApiKey({
    apiKey: options.apiKey,
    environmentVariableName: 'ANTHROPIC_API_KEY',
    optionName: '--api-key',
    provider: 'Anthropic',
    env: options.env,
  });
  const client = new Anthropic({ apiKey, baseURL: options.baseUrl ?? null, maxRetries: 0 });
  return {
    id: 'anthropic',
    model: options.model,
    defaultConcurrency: options.concurrency ?? 50,
    async complete(request: CompletionRequest, call?: CallOptions): Promise<CompletionResult> {
      const system = request.messages
        .filter((message) => message.role === 'system')
        .map((message) => message.content)
        .join('\n\n');
      const messages = request.messages
        .filter((message) => message.role !== 'system')
        .map((message) => ({
          role: message.role as 'user' | 'assistant',
          content: message.content,
        }));
      const { signal, dispose } = callSignal(call);
      try {
        const response = await client.messages.create(
          {
            model: options.model,
            max_tokens: request.maxTokens,
            temperature: Math.min(1, request.temperature),
            ...(system ? { system } : {}),
            messages,
          },
          { signal },
        );
        const text = response.content
          .map((block) => (block.type === 'text' ? block.text : ''))
          .join('');
        return {
          text,
          finishReason:
            response.stop_reason === 'max_tokens'
              ? 'length'
              : response.stop_reason === 'refusal'
                ? 'refusal'
                : 'stop',
          promptTokens: response.usage.input_tokens,
          completionTokens: response.usage.output_tokens,
        };
      } catch (error) {
        throw toProviderError(error, call?.signal);
      } finally {
        dispose();
      }
    },
  };
}

export function toProviderError(error: unknown, outer: AbortSignal | undefined): unknown {
  if (outer?.aborted) return error;
  if (error instanceof Anthropic.APIError && typeof error.status === 'number') {
    const headers = error.headers;
    return new ProviderError({
      provider: 'anthropic',
      status: error.status,
      message: error.message,
      retryable: isRetryableStatus(error.status),
      retryAfterMs: parseRetryAfter(headers?.get('retry-after'), headers?.get('retry-after-ms')),
      cause: error,
    });
  }
  return new ProviderError({
    provider: 'anthropic',
    message: `request failed: ${(error as Error).message}`,
    retryable: true,
    cause: error,
  });
}
