import { callSignal, parseRetryAfter } from '@midspec/core';
import { loadApiKey } from './api-key.js';
import { isRetryableStatus, ProviderError } from './docgen-error.js';
import { createJsonPoster, type HttpResponse, headerValue } from './http-post.js';
import type {
  CallOptions,
  CompletionRequest,
  CompletionResult,
  FinishReason,
  Provider,
} from './provider.js';

export interface OpenAIProviderOptions {
  model: string;
  /** Default https://api.openai.com/v1; vLLM, Ollama and the worker's endpoint end in /v1 too. */
  baseUrl?: string;
  /** Default OPENAI_API_KEY; local servers that need none: pass `apiKey: 'none'`. */
  apiKey?: string;
  env?: NodeJS.ProcessEnv;
  /** Requests in flight; default 50. */
  concurrency?: number;
  /** Send `seed` (OpenAI, vLLM and Ollama accept it). Default true. */
  sendSeed?: boolean;
}

interface ChatCompletion {
  choices?: {
    message?: { content?: string | null; refusal?: string | null };
    finish_reason?: string;
  }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

/** OpenAI-compatible chat completions over HTTP: OpenAI, vLLM, Ollama, the midspec worker. */
export function createOpenAIProvider(options: OpenAIProviderOptions): Provider {
  const baseUrl = (options.baseUrl ?? 'https://api.openai.com/v1').replace(/\/+$/, '');
  const isLocal = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])[:/]/.test(`${baseUrl}/`);
  const apiKey =
    options.apiKey ??
    (isLocal
      ? (options.env ?? process.env).OPENAI_API_KEY
      : loadApiKey({
          apiKey: undefined,
          environmentVariableName: 'OPENAI_API_KEY',
          optionName: '--api-key',
          provider: 'OpenAI',
          env: options.env,
        }));
  const concurrency = options.concurrency ?? 50;
  const post = createJsonPoster(concurrency);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...(apiKey && apiKey !== 'none' ? { authorization: `Bearer ${apiKey}` } : {}),
  };
  return {
    id: 'openai',
    model: options.model,
    defaultConcurrency: concurrency,
    close() {
      post.close();
    },
    async complete(request: CompletionRequest, call?: CallOptions): Promise<CompletionResult> {
      const body = {
        model: options.model,
        messages: request.messages,
        temperature: request.temperature,
        max_tokens: request.maxTokens,
        ...(request.json ? { response_format: { type: 'json_object' } } : {}),
        ...(options.sendSeed !== false && request.seed !== undefined ? { seed: request.seed } : {}),
      };
      const { signal, dispose } = callSignal(call);
      let response: HttpResponse;
      try {
        response = await post(`${baseUrl}/chat/completions`, headers, JSON.stringify(body), signal);
      } catch (error) {
        if (call?.signal?.aborted) throw error;
        throw new ProviderError({
          provider: 'openai',
          message: `request failed: ${signal.aborted ? String(signal.reason) : (error as Error).message}`,
          retryable: true,
          cause: error,
        });
      } finally {
        dispose();
      }
      const text = response.text;
      if (response.status < 200 || response.status >= 300) {
        throw new ProviderError({
          provider: 'openai',
          status: response.status,
          message: `HTTP ${response.status}: ${text.slice(0, 300)}`,
          retryable: isRetryableStatus(response.status),
          retryAfterMs: parseRetryAfter(
            headerValue(response.headers, 'retry-after'),
            headerValue(response.headers, 'retry-after-ms'),
          ),
        });
      }
      let data: ChatCompletion;
      try {
        data = JSON.parse(text) as ChatCompletion;
      } catch (error) {
        throw new ProviderError({
          provider: 'openai',
          message: 'response is not JSON',
          retryable: true,
          cause: error,
        });
      }
      const choice = data.choices?.[0];
      const refusal = choice?.message?.refusal;
      return {
        text: refusal ?? choice?.message?.content ?? '',
        finishReason: refusal ? 'refusal' : mapFinish(choice?.finish_reason),
        promptTokens: data.usage?.prompt_tokens ?? 0,
        completionTokens: data.usage?.completion_tokens ?? 0,
      };
    },
  };
}

function mapFinish(reason: string | undefined): FinishReason {
  if (reason === 'length') return 'length';
  if (reason === 'content_filter') return 'refusal';
  return 'stop';
}
