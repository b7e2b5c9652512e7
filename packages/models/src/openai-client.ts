import OpenAI from 'openai';
import { isLocalUrl, loadApiKey } from './api-key.js';
import type {
  CallOptions,
  ChatMessage,
  ChatRequest,
  ChatResult,
  ContinuationScore,
  FinishReason,
  ModelClient,
  TextRequest,
} from './chat.js';
import { ModelError } from './model-error.js';
import { fromSdkError, requestOptions } from './sdk-error.js';
import { withToolCallIds } from './tool-call-ids.js';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

export interface OpenAIClientOptions {
  model: string;
  /** Default OPENAI_BASE_URL, then https://api.openai.com/v1; vLLM, Ollama, Together and the worker's endpoint work too. */
  baseUrl?: string;
  /** Default OPENAI_API_KEY; not needed for a server on localhost. */
  apiKey?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * The SDK's own retries (429/5xx/timeouts, honouring Retry-After). Default 2; callers that run
   * their own retry loop around a shared limiter (docgen's engine, eval's limiter) pass 0.
   */
  maxRetries?: number;
  /** Per attempt; default 120 s. */
  timeoutMs?: number;
}

/** OpenAI-compatible chat and completions through the official `openai` SDK. */
export function createOpenAIClient(options: OpenAIClientOptions): ModelClient & {
  readonly sdk: OpenAI;
} {
  const env = options.env ?? process.env;
  const baseUrl = (options.baseUrl ?? env.OPENAI_BASE_URL ?? OPENAI_DEFAULT_BASE_URL).replace(
    /\/+$/,
    '',
  );
  const local = isLocalUrl(baseUrl);
  const apiKey = local
    ? (options.apiKey ?? env.OPENAI_API_KEY)
    : loadApiKey({
        apiKey: options.apiKey,
        environmentVariableName: 'OPENAI_API_KEY',
        optionName: '--api-key',
        provider: 'openai',
        env,
      });
  const keyless = !apiKey || apiKey === 'none';
  const sdk = new OpenAI({
    apiKey: keyless ? 'none' : apiKey,
    baseURL: baseUrl,
    maxRetries: options.maxRetries ?? 2,
    timeout: options.timeoutMs ?? 120_000,
    // A local server without a key gets no Authorization header at all.
    ...(keyless ? { defaultHeaders: { Authorization: null } } : {}),
  });
  const id = `openai:${options.model}@${baseUrl}`;
  const fail = (message: string, retryable: boolean, code?: 'models/unsupported') =>
    new ModelError({ provider: id, message, retryable, ...(code ? { code } : {}) });

  return {
    provider: 'openai',
    model: options.model,
    id,
    limiterKey: `openai@${baseUrl}`,
    sdk,
    async chat(request: ChatRequest, call?: CallOptions): Promise<ChatResult> {
      let completion: OpenAI.Chat.ChatCompletion;
      try {
        completion = await sdk.chat.completions.create(
          chatCompletionBody(options.model, request),
          requestOptions(call),
        );
      } catch (error) {
        throw fromSdkError(error, id, call?.signal);
      }
      return fromChatCompletion(completion, () => fail('the response has no choices[0]', true));
    },
    async completeText(request: TextRequest, call?: CallOptions): Promise<ChatResult> {
      let completion: OpenAI.Completions.Completion;
      try {
        completion = await sdk.completions.create(
          {
            model: options.model,
            prompt: request.prompt,
            temperature: request.temperature,
            max_tokens: request.maxTokens,
            ...(request.seed === undefined ? {} : { seed: request.seed }),
          },
          requestOptions(call),
        );
      } catch (error) {
        throw fromSdkError(error, id, call?.signal);
      }
      const choice = completion.choices?.[0];
      return {
        text: choice?.text ?? '',
        toolCalls: [],
        finishReason: mapFinish(choice?.finish_reason),
        rawFinishReason: choice?.finish_reason ?? 'unknown',
        refusal: false,
        usage: {
          inputTokens: completion.usage?.prompt_tokens ?? 0,
          outputTokens: completion.usage?.completion_tokens ?? 0,
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
        },
      };
    },
    async scoreContinuations(items, call?: CallOptions): Promise<ContinuationScore[]> {
      const scores: ContinuationScore[] = [];
      for (const item of items) {
        let completion: OpenAI.Completions.Completion;
        try {
          // `echo` with `max_tokens: 0` returns the prompt's own token log-probabilities (vLLM,
          // llama.cpp, the midspec worker; OpenAI's hosted models no longer offer it).
          completion = await sdk.completions.create(
            {
              model: options.model,
              prompt: item.prompt + item.continuation,
              max_tokens: 0,
              echo: true,
              logprobs: 1,
              temperature: 0,
            },
            requestOptions(call),
          );
        } catch (error) {
          throw fromSdkError(error, id, call?.signal);
        }
        const logprobs = completion.choices?.[0]?.logprobs;
        if (!logprobs?.token_logprobs || !logprobs.text_offset)
          throw fail(
            'the completions response has no echoed logprobs (does the server support echo?)',
            false,
            'models/unsupported',
          );
        let logprob = 0;
        let count = 0;
        logprobs.text_offset.forEach((offset, index) => {
          if (offset < item.prompt.length) return;
          const value = logprobs.token_logprobs?.[index];
          if (typeof value !== 'number') return;
          logprob += value;
          count += 1;
        });
        if (count === 0)
          throw fail('no continuation tokens came back in the echoed logprobs', false);
        scores.push({
          logprob,
          continuationTokens: count,
          inputTokens: completion.usage?.prompt_tokens ?? 0,
        });
      }
      return scores;
    },
    async close() {},
  };
}

/** The chat completions body for one request: the same for direct calls and batch lines. */
export function chatCompletionBody(
  model: string,
  request: ChatRequest,
): OpenAI.Chat.ChatCompletionCreateParamsNonStreaming {
  const tools = request.tools?.map((tool) => ({
    type: 'function' as const,
    function: { name: tool.name, description: tool.description, parameters: tool.parameters },
  }));
  return {
    model,
    messages: toOpenAIMessages(request.messages),
    temperature: request.temperature,
    max_tokens: request.maxTokens,
    ...(request.json ? { response_format: { type: 'json_object' as const } } : {}),
    ...(request.seed !== undefined ? { seed: request.seed } : {}),
    ...(tools && tools.length > 0 ? { tools } : {}),
    ...(request.logprobs || request.topLogprobs
      ? { logprobs: true, ...(request.topLogprobs ? { top_logprobs: request.topLogprobs } : {}) }
      : {}),
  };
}

/** Our turns as OpenAI messages: `tool_calls` on assistant turns, `tool_call_id` on tool turns. */
export function toOpenAIMessages(
  messages: ChatMessage[],
): OpenAI.Chat.ChatCompletionMessageParam[] {
  const hasTools = messages.some((message) => message.toolCalls?.length || message.role === 'tool');
  return (hasTools ? withToolCallIds(messages) : messages).map(
    (message): OpenAI.Chat.ChatCompletionMessageParam => {
      if (message.role === 'tool')
        return {
          role: 'tool',
          tool_call_id: message.toolCallId as string,
          content: message.content,
        };
      if (message.role === 'assistant' && message.toolCalls?.length)
        return {
          role: 'assistant',
          content: message.content || null,
          tool_calls: message.toolCalls.map((call) => ({
            id: call.id as string,
            type: 'function',
            function: { name: call.name, arguments: call.arguments },
          })),
        };
      return { role: message.role, content: message.content };
    },
  );
}

/** A chat.completion body (a direct answer or a batch result line) in our shape. */
export function fromChatCompletion(
  completion: OpenAI.Chat.ChatCompletion,
  missing: () => Error,
): ChatResult {
  const choice = completion.choices?.[0];
  if (!choice?.message) throw missing();
  const refusal = choice.message.refusal;
  const toolCalls = (choice.message.tool_calls ?? []).flatMap((call) =>
    call.type === 'function'
      ? [{ id: call.id, name: call.function.name, arguments: call.function.arguments }]
      : [],
  );
  const logprobs = choice.logprobs?.content?.map((token) => ({
    token: token.token,
    logprob: token.logprob,
    ...(token.top_logprobs?.length
      ? { top: token.top_logprobs.map((top) => ({ token: top.token, logprob: top.logprob })) }
      : {}),
  }));
  return {
    text: choice.message.content ?? refusal ?? '',
    toolCalls,
    finishReason: refusal ? 'refusal' : mapFinish(choice.finish_reason),
    rawFinishReason: choice.finish_reason ?? 'unknown',
    refusal: Boolean(refusal) || choice.finish_reason === 'content_filter',
    usage: {
      inputTokens: completion.usage?.prompt_tokens ?? 0,
      outputTokens: completion.usage?.completion_tokens ?? 0,
      // OpenAI caches prompt prefixes of 1024+ tokens on its own; it reports the tokens it reused.
      cacheReadTokens: completion.usage?.prompt_tokens_details?.cached_tokens ?? 0,
      cacheWriteTokens: 0,
    },
    ...(logprobs ? { logprobs } : {}),
  };
}

function mapFinish(reason: string | null | undefined): FinishReason {
  if (reason === 'stop') return 'stop';
  if (reason === 'length') return 'length';
  if (reason === 'tool_calls' || reason === 'function_call') return 'tool-calls';
  if (reason === 'content_filter') return 'refusal';
  return reason ? 'other' : 'stop';
}
