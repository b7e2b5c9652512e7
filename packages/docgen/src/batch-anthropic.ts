import Anthropic from '@anthropic-ai/sdk';
import { loadApiKey } from './api-key.js';
import type { BatchBackend, BatchItemResult, BatchRequest } from './batch-backend.js';
import type { CallOptions } from './provider.js';

export interface AnthropicBatchOptions {
  model: string;
  apiKey?: string;
  baseUrl?: string;
  env?: NodeJS.ProcessEnv;
}

/** Anthropic Message Batches through the official SDK. */
export function createAnthropicBatchBackend(options: AnthropicBatchOptions): BatchBackend {
  const apiKey = loadApiKey({
    apiKey: options.apiKey,
    environmentVariableName: 'ANTHROPIC_API_KEY',
    optionName: '--api-key',
    provider: 'Anthropic',
    env: options.env,
  });
  const client = new Anthropic({ apiKey, baseURL: options.baseUrl ?? null, maxRetries: 2 });
  return {
    id: 'anthropic',
    model: options.model,
    async submit(requests: BatchRequest[], call?: CallOptions) {
      const batch = await client.messages.batches.create(
        {
          requests: requests.map(({ customId, request }) => {
            const system = request.messages
              .filter((message) => message.role === 'system')
              .map((message) => message.content)
              .join('\n\n');
            return {
              custom_id: customId,
              params: {
                model: options.model,
                max_tokens: request.maxTokens,
                temperature: Math.min(1, request.temperature),
                ...(system ? { system } : {}),
                messages: request.messages
                  .filter((message) => message.role !== 'system')
                  .map((message) => ({
                    role: message.role as 'user' | 'assistant',
                    content: message.content,
                  })),
              },
            };
          }),
        },
        requestOptions(call),
      );
      return batch.id;
    },
    async status(batchId: string, call?: CallOptions) {
      const batch = await client.messages.batches.retrieve(batchId, requestOptions(call));
      const counts = batch.request_counts;
      const completed = counts.succeeded + counts.errored + counts.canceled + counts.expired;
      return {
        done: batch.processing_status === 'ended',
        completed,
        total: completed + counts.processing,
      };
    },
    async results(batchId: string, call?: CallOptions) {
      const out = new Map<string, BatchItemResult>();
      const decoder = await client.messages.batches.results(batchId, requestOptions(call));
      for await (const item of decoder) {
        if (item.result.type === 'succeeded') {
          const message = item.result.message;
          out.set(item.custom_id, {
            ok: true,
            result: {
              text: message.content
                .map((block) => (block.type === 'text' ? block.text : ''))
                .join(''),
              finishReason:
                message.stop_reason === 'max_tokens'
                  ? 'length'
                  : message.stop_reason === 'refusal'
                    ? 'refusal'
                    : 'stop',
              promptTokens: message.usage.input_tokens,
              completionTokens: message.usage.output_tokens,
            },
          });
        } else {
          out.set(item.custom_id, {
            ok: false,
            error:
              item.result.type === 'errored' ? JSON.stringify(item.result.error) : item.result.type,
          });
        }
      }
      return out;
    },
  };
}

function requestOptions(call: CallOptions | undefined) {
  return {
    ...(call?.signal ? { signal: call.signal } : {}),
    ...(call?.timeoutMs !== undefined ? { timeout: call.timeoutMs } : {}),
  };
}
