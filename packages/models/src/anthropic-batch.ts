import {
  type AnthropicClientOptions,
  createAnthropicClient,
  fromAnthropicMessage,
  messageParams,
} from './anthropic-client.js';
import type {
  BatchClient,
  BatchIntent,
  BatchItem,
  BatchItemResult,
  BatchLimits,
  BatchStatus,
} from './batch-client.js';
import { intentTag } from './batch-client.js';
import type { CallOptions } from './chat.js';
import { batchCall, requestOptions } from './sdk-error.js';

/** Anthropic's documented Message Batches limits: 100,000 requests or 256 MB per batch. */
export const ANTHROPIC_BATCH_LIMITS: BatchLimits = {
  maxRequests: 100_000,
  maxBytes: 256 * 1024 * 1024,
};

const CLOCK_SKEW_MS = 10 * 60_000;

export interface AnthropicBatchOptions extends AnthropicClientOptions {
  limits?: BatchLimits;
}

/**
 * Anthropic Message Batches through the SDK. Batches carry no metadata, so the intent id goes into
 * every custom id; a batch found after a crash is one created since the intent with as many
 * requests, and its results are checked against the intent before they are used.
 */
export function createAnthropicBatchClient(options: AnthropicBatchOptions): BatchClient {
  const { sdk, id } = createAnthropicClient(options);
  const cache = options.cacheSystemPrompt ?? true;
  const request = (item: BatchItem) => ({
    custom_id: item.customId,
    params: messageParams(options.model, item.request, cache),
  });
  const call = batchCall(id);
  const results = async (batchId: string, callOptions?: CallOptions) => {
    const out = new Map<string, BatchItemResult>();
    await call(
      `downloading the results of batch ${batchId}`,
      async () => {
        const decoder = await sdk.messages.batches.results(batchId, requestOptions(callOptions));
        for await (const item of decoder) {
          if (item.result.type === 'succeeded')
            out.set(item.custom_id, {
              ok: true,
              result: fromAnthropicMessage(item.result.message),
            });
          else
            out.set(item.custom_id, {
              ok: false,
              error:
                item.result.type === 'errored'
                  ? JSON.stringify(item.result.error)
                  : item.result.type,
            });
        }
      },
      callOptions,
    );
    return out;
  };
  return {
    provider: 'anthropic',
    model: options.model,
    limits: options.limits ?? ANTHROPIC_BATCH_LIMITS,
    customId: (intent: BatchIntent, index: number) => `${intentTag(intent)}-${index}`,
    itemBytes: (item: BatchItem) => Buffer.byteLength(JSON.stringify(request(item))) + 1,
    async submit(items: BatchItem[], _intent: BatchIntent, callOptions?: CallOptions) {
      const batch = await call(
        'creating the batch',
        () =>
          sdk.messages.batches.create(
            { requests: items.map(request) },
            // Never retried blindly (see ensureSubmitted): a lost answer may hide a paid batch.
            requestOptions(callOptions, 0),
          ),
        callOptions,
      );
      return batch.id;
    },
    async find(intent: BatchIntent, callOptions?: CallOptions) {
      const since = intent.createdAt - CLOCK_SKEW_MS;
      const tag = `${intentTag(intent)}-`;
      const unverified: string[] = [];
      const found = await call(
        'listing batches',
        async () => {
          for await (const batch of sdk.messages.batches.list(
            { limit: 100 },
            requestOptions(callOptions),
          )) {
            if (Date.parse(batch.created_at) < since) break;
            const counts = batch.request_counts;
            const total =
              counts.processing +
              counts.succeeded +
              counts.errored +
              counts.canceled +
              counts.expired;
            if (total !== intent.size) continue;
            if (batch.processing_status !== 'ended') {
              unverified.push(batch.id);
              continue;
            }
            const held = await results(batch.id, callOptions);
            if ([...held.keys()].every((customId) => customId.startsWith(tag))) return batch.id;
          }
          return undefined;
        },
        callOptions,
      );
      // A batch still running cannot show its custom ids; one alone of the right size is ours
      // (`results` checks the ids once it ends).
      return found ?? (unverified.length === 1 ? unverified[0] : undefined);
    },
    async status(batchId: string, callOptions?: CallOptions): Promise<BatchStatus> {
      const batch = await call(
        `polling batch ${batchId}`,
        () => sdk.messages.batches.retrieve(batchId, requestOptions(callOptions)),
        callOptions,
      );
      const counts = batch.request_counts;
      const completed = counts.succeeded + counts.errored + counts.canceled + counts.expired;
      return {
        done: batch.processing_status === 'ended',
        completed,
        total: completed + counts.processing,
        state: batch.processing_status,
      };
    },
    results,
  };
}
