import { type CallOptions, callSignal, retryAfterFromHeaders } from '@midspec/core';
import {
  type Backend,
  BackendError,
  type Pricing,
  promptText,
  type SampleInput,
  type SampleOutput,
  type ScoreInput,
  type ScoreOutput,
} from './backend.js';
import { EvaluationError } from './evaluation-error.js';
import { nativeToolCall } from './tool-calls.js';

export interface OpenAiBackendOptions {
  model: string;
  /** Default: OPENAI_BASE_URL, then https://api.openai.com/v1. */
  baseUrl?: string;
  /** Default: OPENAI_API_KEY. Optional for a local server given by baseUrl. */
  apiKey?: string;
  pricing?: Pricing;
  env?: NodeJS.ProcessEnv;
}

const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

interface ChatCompletion {
  choices?: Array<{
    message?: {
      content?: string | null;
      refusal?: string | null;
      tool_calls?: Array<{ function?: { name?: string; arguments?: string } }>;
    };
    finish_reason?: string;
  }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

interface Completion {
  choices?: Array<{
    text?: string;
    finish_reason?: string;
    logprobs?: { tokens?: string[]; token_logprobs?: Array<number | null>; text_offset?: number[] };
  }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

/**
 * Any OpenAI-compatible HTTP server: chat completions for sampling (native tools supported) and the
 * legacy completions endpoint with `echo` and `logprobs` for scoring (vLLM, llama.cpp, the midspec
 * worker's endpoint; OpenAI's own API no longer offers echo).
 */
export class OpenAiBackend implements Backend {
  readonly id: string;
  readonly model: string;
  readonly limiterKey: string;
  readonly pricing: Pricing | undefined;
  private readonly baseUrl: string;
  private readonly apiKey: string | undefined;

  constructor(options: OpenAiBackendOptions) {
    const env = options.env ?? process.env;
    this.baseUrl = (options.baseUrl ?? env.OPENAI_BASE_URL ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.apiKey = options.apiKey ?? env.OPENAI_API_KEY;
    if (!this.apiKey && this.baseUrl === DEFAULT_BASE_URL) {
      throw new EvaluationError({
        code: 'eval/missing-api-key',
        message:
          'OpenAI backend: no API key — pass apiKey or set OPENAI_API_KEY (or point baseUrl / OPENAI_BASE_URL at a local server)',
      });
    }
    this.model = options.model;
    this.pricing = options.pricing;
    this.id = `openai:${options.model}@${this.baseUrl}`;
    this.limiterKey = `openai@${this.baseUrl}`;
  }

  async sample(input: SampleInput, options?: CallOptions): Promise<SampleOutput> {
    if ('text' in input.prompt) {
      const body = await this.post<Completion>(
        '/completions',
        {
          model: this.model,
          prompt: input.prompt.text,
          temperature: input.temperature,
          max_tokens: input.maxTokens,
          ...(input.seed === undefined ? {} : { seed: input.seed }),
        },
        options,
      );
      const choice = body.choices?.[0];
      return {
        text: choice?.text ?? '',
        toolCalls: [],
        finishReason: choice?.finish_reason ?? 'unknown',
        usage: {
          inputTokens: body.usage?.prompt_tokens ?? 0,
          outputTokens: body.usage?.completion_tokens ?? 0,
        },
      };
    }
    const tools = input.tools?.map((tool) => ({
      type: 'function',
      function: { name: tool.name, description: tool.description, parameters: tool.parameters },
    }));
    const body = await this.post<ChatCompletion>(
      '/chat/completions',
      {
        model: this.model,
        messages: input.prompt.messages,
        temperature: input.temperature,
        max_tokens: input.maxTokens,
        ...(input.seed === undefined ? {} : { seed: input.seed }),
        ...(tools && tools.length > 0 ? { tools } : {}),
      },
      options,
    );
    const choice = body.choices?.[0];
    if (!choice?.message) throw this.error('the response has no choices[0].message', false);
    const refusal = choice.message.refusal;
    return {
      text: choice.message.content ?? refusal ?? '',
      toolCalls: (choice.message.tool_calls ?? []).map((call) =>
        nativeToolCall(call.function?.name ?? '', call.function?.arguments ?? ''),
      ),
      finishReason: choice.finish_reason ?? 'unknown',
      usage: {
        inputTokens: body.usage?.prompt_tokens ?? 0,
        outputTokens: body.usage?.completion_tokens ?? 0,
      },
      ...(refusal ? { refusal: true } : {}),
    };
  }

  async scoreLogprobs(items: ScoreInput[], options?: CallOptions): Promise<ScoreOutput[]> {
    const results: ScoreOutput[] = [];
    for (const item of items) {
      const prompt = promptText(item.prompt);
      const body = await this.post<Completion>(
        '/completions',
        {
          model: this.model,
          prompt: prompt + item.continuation,
          max_tokens: 0,
          echo: true,
          logprobs: 1,
          temperature: 0,
        },
        options,
      );
      const logprobs = body.choices?.[0]?.logprobs;
      if (!logprobs?.token_logprobs || !logprobs.text_offset) {
        throw this.error(
          'the completions response has no echoed logprobs (does the server support echo?)',
          false,
          true,
        );
      }
      let logprob = 0;
      let count = 0;
      logprobs.text_offset.forEach((offset, i) => {
        if (offset < prompt.length) return;
        const value = logprobs.token_logprobs?.[i];
        if (typeof value !== 'number') return;
        logprob += value;
        count++;
      });
      if (count === 0)
        throw this.error('no continuation tokens came back in the echoed logprobs', false);
      results.push({
        logprob,
        continuationTokens: count,
        usage: { inputTokens: body.usage?.prompt_tokens ?? 0, outputTokens: 0 },
      });
    }
    return results;
  }

  async close(): Promise<void> {}

  private error(message: string, retryable: boolean, unsupported = false): BackendError {
    return new BackendError({ backend: this.id, message, retryable, unsupported });
  }

  private async post<T>(
    path: string,
    payload: unknown,
    options: CallOptions | undefined,
  ): Promise<T> {
    let response: Response;
    const call = callSignal(options);
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}),
        },
        body: JSON.stringify(payload),
        signal: call.signal,
      });
    } catch (cause) {
      call.dispose();
      const aborted = options?.signal?.aborted === true;
      throw new BackendError({
        backend: this.id,
        message: `request to ${path} failed: ${cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause)}`,
        retryable: !aborted,
        cause,
      });
    }
    const text = await response.text().finally(() => call.dispose());
    if (!response.ok) {
      throw new BackendError({
        backend: this.id,
        message: `${path} answered ${response.status}: ${text.slice(0, 500)}`,
        status: response.status,
        retryable: response.status === 429 || response.status >= 500 || response.status === 408,
        rateLimited: response.status === 429,
        retryAfterMs: retryAfterFromHeaders(response.headers),
      });
    }
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      throw new BackendError({
        backend: this.id,
        message: `${path} answered with invalid JSON: ${text.slice(0, 200)}`,
        retryable: true,
        cause,
      });
    }
  }
}
