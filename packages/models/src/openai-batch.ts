import type OpenAI from 'openai';
import { toFile } from 'openai';
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
import {
  chatCompletionBody,
  createOpenAIClient,
  fromChatCompletion,
  type OpenAIClientOptions,
} from './openai-client.js';
import { batchCall, requestOptions } from './sdk-error.js';

/** OpenAI's documented Batch limits: 50,000 requests and a 200 MB input file per batch. */
export const OPENAI_BATCH_LIMITS: BatchLimits = {
  maxRequests: 50_000,
  maxBytes: 200 * 1024 * 1024,
};

/** The metadata key that carries the intent id. */
export const INTENT_METADATA_KEY = 'midspec_intent';

/** How far back to look for a batch submitted before a crash (clocks differ a little). */
const CLOCK_SKEW_MS = 10 * 60_000;

export interface OpenAIBatchOptions extends OpenAIClientOptions {
  /** Default OPENAI_BATCH_LIMITS; smaller limits split sooner. */
  limits?: BatchLimits;
}

/**
 * OpenAI Batch through the SDK's files and batches APIs: a JSONL file of /v1/chat/completions
 * requests, one batch per file, the intent id in the batch's `metadata`.
 */
export function createOpenAIBatchClient(options: OpenAIBatchOptions): BatchClient {
  const { sdk, id } = createOpenAIClient(options);
  const line = (item: BatchItem) =>
    JSON.stringify({
      custom_id: item.customId,
      method: 'POST',
      url: '/v1/chat/completions',
      body: chatCompletionBody(options.model, item.request),
    });
  const call = batchCall(id);
  return {
    provider: 'openai',
    model: options.model,
    limits: options.limits ?? OPENAI_BATCH_LIMITS,
    customId: (intent: BatchIntent, index: number) => `${intentTag(intent)}-${index}`,
    itemBytes: (item: BatchItem) => Buffer.byteLength(line(item)) + 1,
    async submit(items: BatchItem[], intent: BatchIntent, callOptions?: CallOptions) {
      const body = Buffer.from(`${items.map(line).join('\n')}\n`, 'utf8');
      const file = await call(
        'uploading the batch input',
        async () =>
          sdk.files.create(
            { file: await toFile(body, `${intentTag(intent)}.jsonl`), purpose: 'batch' },
            requestOptions(callOptions),
          ),
        callOptions,
      );
      const batch = await call(
        'creating the batch',
        () =>
          sdk.batches.create(
            {
              input_file_id: file.id,
              endpoint: '/v1/chat/completions',
              completion_window: '24h',
              metadata: { [INTENT_METADATA_KEY]: intent.id },
            },
            // Never retried blindly: a lost answer may hide a created (paid) batch, so the
            // journal's caller looks for it by its intent id before sending again.
            requestOptions(callOptions, 0),
          ),
        callOptions,
      );
      return batch.id;
    },
    async find(intent: BatchIntent, callOptions?: CallOptions) {
      return call(
        'listing batches',
        async () => {
          const since = (intent.createdAt - CLOCK_SKEW_MS) / 1000;
          // Newest first: stop at the first batch older than the intent.
          for await (const batch of sdk.batches.list({ limit: 100 }, requestOptions(callOptions))) {
            if (batch.metadata?.[INTENT_METADATA_KEY] === intent.id) return batch.id;
            if (batch.created_at < since) break;
          }
          return undefined;
        },
        callOptions,
      );
    },
    async status(batchId: string, callOptions?: CallOptions): Promise<BatchStatus> {
      const batch = await call(
        `polling batch ${batchId}`,
        () => sdk.batches.retrieve(batchId, requestOptions(callOptions)),
        callOptions,
      );
      return {
        done: ['completed', 'failed', 'expired', 'cancelled'].includes(batch.status),
        completed: (batch.request_counts?.completed ?? 0) + (batch.request_counts?.failed ?? 0),
        total: batch.request_counts?.total ?? 0,
        state: batch.status,
      };
    },
    async results(batchId: string, callOptions?: CallOptions) {
      const batch = await call(
        `reading batch ${batchId}`,
        () => sdk.batches.retrieve(batchId, requestOptions(callOptions)),
        callOptions,
      );
      const out = new Map<string, BatchItemResult>();
      for (const fileId of [batch.output_file_id, batch.error_file_id]) {
        if (!fileId) continue;
        const text = await call(
          `downloading ${fileId} of batch ${batchId}`,
          async () => (await sdk.files.content(fileId, requestOptions(callOptions))).text(),
          callOptions,
        );
        for (const row of text.split('\n')) {
          if (!row.trim()) continue;
          const item = JSON.parse(row) as {
            custom_id: string;
            response?: { status_code: number; body: OpenAI.Chat.ChatCompletion } | null;
            error?: { message?: string } | null;
          };
          if (item.response?.status_code === 200 && item.response.body?.choices?.[0]) {
            out.set(item.custom_id, {
              ok: true,
              result: fromChatCompletion(item.response.body, () => new Error('no choices')),
            });
          } else {
            out.set(item.custom_id, {
              ok: false,
              error:
                item.error?.message ??
                `HTTP ${item.response?.status_code ?? '?'}: ${JSON.stringify(item.response?.body ?? {}).slice(0, 200)}`,
            });
          }
        }
      }
      return out;
    },
  };
}
