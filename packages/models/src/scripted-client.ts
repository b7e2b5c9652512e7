import type { CallOptions, ChatRequest, ChatResult, ModelClient } from './chat.js';

export interface ScriptedClientOptions {
  /** Default `scripted`. */
  model?: string;
  /** The answer to each request: its text, or a whole result (tool calls, finish reason…). */
  answer: (request: ChatRequest, index: number) => string | Partial<ChatResult>;
}

/**
 * An offline client that answers from a function: for tests and dry runs of anything built on
 * `ModelClient`, with no network. Usage counts characters/4, and says nothing is cached.
 */
export function createScriptedClient(options: ScriptedClientOptions): ModelClient & {
  readonly requests: ChatRequest[];
} {
  const requests: ChatRequest[] = [];
  const model = options.model ?? 'scripted';
  return {
    provider: 'scripted',
    model,
    id: `scripted:${model}`,
    limiterKey: `scripted:${model}`,
    requests,
    async chat(request: ChatRequest, call?: CallOptions): Promise<ChatResult> {
      call?.signal?.throwIfAborted();
      requests.push(request);
      const answer = options.answer(request, requests.length - 1);
      const partial = typeof answer === 'string' ? { text: answer } : answer;
      const text = partial.text ?? '';
      const input = request.messages.reduce((sum, message) => sum + message.content.length, 0);
      return {
        text,
        toolCalls: partial.toolCalls ?? [],
        finishReason: partial.finishReason ?? (partial.toolCalls?.length ? 'tool-calls' : 'stop'),
        rawFinishReason: partial.rawFinishReason ?? partial.finishReason ?? 'stop',
        refusal: partial.refusal ?? false,
        usage: partial.usage ?? {
          inputTokens: Math.ceil(input / 4),
          outputTokens: Math.ceil(text.length / 4),
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
        },
        ...(partial.logprobs ? { logprobs: partial.logprobs } : {}),
      };
    },
    async close() {},
  };
}
