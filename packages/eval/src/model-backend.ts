import {
  type ChatMessage,
  type ChatResult,
  type ModelClient,
  ModelError,
  type ModelToolCall,
} from '@midspec/models';
import { BackendError, type SampleInput, type SampleOutput } from './backend.js';
import { EvaluationError } from './evaluation-error.js';
import type { ChatTurn } from './expand-suite.js';
import { nativeToolCall } from './tool-calls.js';

/** Eval's chat turns as @midspec/models messages, tool calls and results included. */
export function toChatMessages(turns: ChatTurn[]): ChatMessage[] {
  return turns.map((turn) => ({
    role: turn.role,
    content: turn.content,
    ...(turn.toolCalls?.length
      ? {
          toolCalls: turn.toolCalls.map(
            (call): ModelToolCall => ({
              ...(call.id ? { id: call.id } : {}),
              name: call.name,
              arguments:
                call.source === 'native' && !call.lenient
                  ? call.raw
                  : JSON.stringify(call.arguments),
            }),
          ),
        }
      : {}),
    ...(turn.toolCallId ? { toolCallId: turn.toolCallId } : {}),
    ...(turn.name ? { name: turn.name } : {}),
  }));
}

/** The chat request for one sample. */
export function chatRequest(input: SampleInput & { prompt: { messages: ChatTurn[] } }) {
  return {
    messages: toChatMessages(input.prompt.messages),
    temperature: input.temperature,
    maxTokens: input.maxTokens,
    ...(input.seed === undefined ? {} : { seed: input.seed }),
    ...(input.tools?.length ? { tools: input.tools } : {}),
  };
}

/** A model result as eval records it; tool calls keep the provider's call id. */
export function toSampleOutput(result: ChatResult): SampleOutput {
  return {
    text: result.text,
    toolCalls: result.toolCalls.map((call) =>
      Object.assign(nativeToolCall(call.name, call.arguments), call.id ? { id: call.id } : {}),
    ),
    finishReason: result.rawFinishReason,
    usage: { inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens },
    ...(result.refusal ? { refusal: true } : {}),
  };
}

/** A ModelError as the BackendError eval's limiter retries on. */
export function toBackendError(error: unknown, backend: string): unknown {
  if (!ModelError.isInstance(error)) return error;
  return new BackendError({
    backend,
    message: error.message.replace(`${error.provider}: `, ''),
    retryable: error.retryable,
    rateLimited: error.rateLimited,
    ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
    ...(error.status !== undefined ? { status: error.status } : {}),
    unsupported: error.unsupported,
    cause: error,
  });
}

/** Builds a client, turning a missing key into eval's own error. */
export function openClient<T extends ModelClient>(create: () => T): T {
  try {
    return create();
  } catch (error) {
    if (ModelError.isInstance(error) && error.code === 'models/api-key-missing')
      throw new EvaluationError({
        code: 'eval/missing-api-key',
        message: error.message,
        cause: error,
      });
    throw error;
  }
}
