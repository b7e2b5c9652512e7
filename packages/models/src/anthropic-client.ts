import Anthropic from '@anthropic-ai/sdk';
import { loadApiKey } from './api-key.js';
import type {
  CallOptions,
  ChatMessage,
  ChatRequest,
  ChatResult,
  FinishReason,
  ModelClient,
} from './chat.js';
import { ModelError } from './model-error.js';
import { fromSdkError, requestOptions } from './sdk-error.js';
import { withToolCallIds } from './tool-call-ids.js';

export interface AnthropicClientOptions {
  model: string;
  /** Default ANTHROPIC_API_KEY. */
  apiKey?: string;
  /** Default ANTHROPIC_BASE_URL, then https://api.anthropic.com. */
  baseUrl?: string;
  env?: NodeJS.ProcessEnv;
  /** The SDK's own retries; default 2 (pass 0 when the caller retries around a shared limiter). */
  maxRetries?: number;
  /** Per attempt; default 120 s. */
  timeoutMs?: number;
  /**
   * Mark the system prompt (the spec, in docgen) as a cache breakpoint, so every request after the
   * first reads it from Anthropic's prompt cache at a tenth of the input price. Default true;
   * prompts under the model's minimum (1,024–4,096 tokens) are simply not cached.
   */
  cacheSystemPrompt?: boolean;
}

/** The Anthropic Messages API through the official `@anthropic-ai/sdk`. */
export function createAnthropicClient(
  options: AnthropicClientOptions,
): ModelClient & { readonly sdk: Anthropic } {
  const env = options.env ?? process.env;
  const apiKey = loadApiKey({
    apiKey: options.apiKey,
    environmentVariableName: 'ANTHROPIC_API_KEY',
    optionName: '--api-key',
    provider: 'anthropic',
    env,
  });
  const baseUrl = options.baseUrl ?? env.ANTHROPIC_BASE_URL;
  const sdk = new Anthropic({
    apiKey,
    baseURL: baseUrl ?? null,
    maxRetries: options.maxRetries ?? 2,
    timeout: options.timeoutMs ?? 120_000,
  });
  const id = `anthropic:${options.model}`;
  const cache = options.cacheSystemPrompt ?? true;
  return {
    provider: 'anthropic',
    model: options.model,
    id,
    limiterKey: `anthropic@${baseUrl ?? 'default'}`,
    sdk,
    async chat(request: ChatRequest, call?: CallOptions): Promise<ChatResult> {
      let message: Anthropic.Message;
      try {
        message = await sdk.messages.create(
          messageParams(options.model, request, cache),
          requestOptions(call),
        );
      } catch (error) {
        throw fromSdkError(error, id, call?.signal);
      }
      return fromAnthropicMessage(message);
    },
    async countTokens(requests: ChatRequest[], call?: CallOptions): Promise<number[]> {
      const counts: number[] = [];
      for (const request of requests) {
        const { system, messages, tools } = messageParams(options.model, request, cache);
        try {
          const counted = await sdk.messages.countTokens(
            {
              model: options.model,
              messages,
              ...(system ? { system } : {}),
              ...(tools ? { tools } : {}),
            },
            requestOptions(call),
          );
          counts.push(counted.input_tokens);
        } catch (error) {
          throw fromSdkError(error, id, call?.signal);
        }
      }
      return counts;
    },
    async scoreContinuations(): Promise<never> {
      throw new ModelError({
        code: 'models/unsupported',
        provider: id,
        message:
          'the Messages API returns no log-probabilities; score with the worker, an OpenAI-compatible server or ONNX',
      });
    },
    async close() {},
  };
}

/** The Messages request for one chat: direct calls, batch requests and token counts share it. */
export function messageParams(
  model: string,
  request: ChatRequest,
  cacheSystemPrompt = true,
): Anthropic.MessageCreateParamsNonStreaming {
  const systemText = request.messages
    .filter((message) => message.role === 'system')
    .map((message) => message.content)
    .join('\n\n');
  const system: Anthropic.TextBlockParam[] | undefined = systemText
    ? [
        {
          type: 'text',
          text: systemText,
          ...(cacheSystemPrompt ? { cache_control: { type: 'ephemeral' as const } } : {}),
        },
      ]
    : undefined;
  const tools = request.tools?.map((tool) => ({
    name: tool.name,
    description: tool.description,
    input_schema: tool.parameters as Anthropic.Tool.InputSchema,
  }));
  return {
    model,
    max_tokens: request.maxTokens,
    // Anthropic's range is 0–1; OpenAI-style temperatures above 1 are capped.
    temperature: Math.min(1, request.temperature),
    messages: toAnthropicMessages(request.messages.filter((message) => message.role !== 'system')),
    ...(system ? { system } : {}),
    ...(tools && tools.length > 0 ? { tools } : {}),
  };
}

/**
 * Our turns as Anthropic messages: assistant tool calls become `tool_use` blocks, tool turns become
 * `tool_result` blocks in the next user message (consecutive results share one message, as the API
 * requires).
 */
export function toAnthropicMessages(messages: ChatMessage[]): Anthropic.MessageParam[] {
  const hasTools = messages.some((message) => message.toolCalls?.length || message.role === 'tool');
  const out: Anthropic.MessageParam[] = [];
  for (const message of hasTools ? withToolCallIds(messages) : messages) {
    if (message.role === 'tool') {
      const block: Anthropic.ToolResultBlockParam = {
        type: 'tool_result',
        tool_use_id: message.toolCallId as string,
        content: message.content,
      };
      const last = out.at(-1);
      if (last?.role === 'user' && Array.isArray(last.content)) last.content.push(block);
      else out.push({ role: 'user', content: [block] });
    } else if (message.role === 'assistant' && message.toolCalls?.length) {
      out.push({
        role: 'assistant',
        content: [
          ...(message.content ? [{ type: 'text' as const, text: message.content }] : []),
          ...message.toolCalls.map((call) => ({
            type: 'tool_use' as const,
            id: call.id as string,
            name: call.name,
            input: parseArguments(call.arguments),
          })),
        ],
      });
    } else {
      out.push({
        role: message.role === 'assistant' ? 'assistant' : 'user',
        content: message.content,
      });
    }
  }
  return out;
}

/** A Message (a direct answer or a batch result) in our shape. */
export function fromAnthropicMessage(message: Anthropic.Message): ChatResult {
  const text: string[] = [];
  const toolCalls: ChatResult['toolCalls'] = [];
  for (const block of message.content) {
    if (block.type === 'text') text.push(block.text);
    else if (block.type === 'tool_use')
      toolCalls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input) });
  }
  const usage = message.usage;
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  return {
    text: text.join(''),
    toolCalls,
    finishReason: mapStop(message.stop_reason),
    rawFinishReason: message.stop_reason ?? 'unknown',
    refusal: message.stop_reason === 'refusal',
    usage: {
      // Anthropic counts cached tokens apart from `input_tokens`; ours include them.
      inputTokens: usage.input_tokens + cacheRead + cacheWrite,
      outputTokens: usage.output_tokens,
      cacheReadTokens: cacheRead,
      cacheWriteTokens: cacheWrite,
    },
  };
}

function mapStop(reason: string | null): FinishReason {
  if (reason === 'end_turn' || reason === 'stop_sequence' || reason === null) return 'stop';
  if (reason === 'max_tokens') return 'length';
  if (reason === 'tool_use') return 'tool-calls';
  if (reason === 'refusal') return 'refusal';
  return 'other';
}

function parseArguments(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // Arguments a model wrote badly are passed on as they were, under one key.
  }
  return { input: text };
}
