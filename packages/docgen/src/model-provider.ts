import { type ChatRequest, type ChatResult, type ModelClient, ModelError } from '@midspec/models';
import { ProviderError } from './docgen-error.js';
import type { CallOptions, CompletionRequest, CompletionResult, Provider } from './provider.js';

/**
 * A docgen Provider on a @midspec/models client: the engine's requests become chat requests, the
 * client's errors become ProviderErrors with the same classification (retryable, Retry-After).
 */
export function fromModelClient(
  client: ModelClient,
  options: { id: string; concurrency: number; sendSeed: boolean },
): Provider {
  return {
    id: options.id,
    model: client.model,
    defaultConcurrency: options.concurrency,
    close: () => client.close(),
    async complete(request: CompletionRequest, call?: CallOptions): Promise<CompletionResult> {
      try {
        const chat = toChatRequest(request);
        if (!options.sendSeed) delete chat.seed;
        return toCompletionResult(await client.chat(chat, call));
      } catch (error) {
        throw toProviderError(error, options.id, call?.signal);
      }
    },
  };
}

export function toProviderError(
  error: unknown,
  provider: string,
  outer: AbortSignal | undefined,
): unknown {
  if (outer?.aborted || !ModelError.isInstance(error)) return error;
  return new ProviderError({
    provider,
    message: error.message.replace(`${error.provider}: `, ''),
    status: error.status,
    retryable: error.retryable,
    retryAfterMs: error.retryAfterMs,
    cause: error,
  });
}

/** The engine's request as a chat request (the `task` context stays with docgen). */
export function toChatRequest(request: CompletionRequest): ChatRequest {
  return {
    messages: request.messages,
    temperature: request.temperature,
    maxTokens: request.maxTokens,
    ...(request.json ? { json: true } : {}),
    ...(request.seed !== undefined ? { seed: request.seed } : {}),
  };
}

/** A chat result as the engine keeps it. */
export function toCompletionResult(result: ChatResult): CompletionResult {
  return {
    text: result.text,
    finishReason: result.refusal ? 'refusal' : result.finishReason === 'length' ? 'length' : 'stop',
    promptTokens: result.usage.inputTokens,
    completionTokens: result.usage.outputTokens,
    ...(result.usage.cacheReadTokens ? { cacheReadTokens: result.usage.cacheReadTokens } : {}),
    ...(result.usage.cacheWriteTokens ? { cacheWriteTokens: result.usage.cacheWriteTokens } : {}),
  };
}
