import { callSignal } from '@midspec/core';
import { loadApiKey } from './api-key.js';
import type { BatchBackend, BatchItemResult, BatchRequest } from './batch-backend.js';
import { DocgenError } from './docgen-error.js';
import type { CallOptions } from './provider.js';

export interface OpenAIBatchOptions {
  model: string;
  baseUrl?: string;
  apiKey?: string;
  env?: NodeJS.ProcessEnv;
}

interface BatchObject {
  id: string;
  status: string;
  output_file_id?: string | null;
  error_file_id?: string | null;
  request_counts?: { total?: number; completed?: number; failed?: number };
}

/** OpenAI Batch: a JSONL file of /v1/chat/completions requests, then /v1/batches. */
export function createOpenAIBatchBackend(options: OpenAIBatchOptions): BatchBackend {
  const baseUrl = (options.baseUrl ?? 'https://api.openai.com/v1').replace(/\/+$/, '');
  const apiKey = loadApiKey({
    apiKey: options.apiKey,
    environmentVariableName: 'OPENAI_API_KEY',
    optionName: '--api-key',
    provider: 'OpenAI',
    env: options.env,
  });
  const call = async (path: string, init: RequestInit, callOptions?: CallOptions) => {
    const { signal, dispose } = callSignal(callOptions);
    try {
      const response = await fetch(`${baseUrl}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${apiKey}`, ...init.headers },
        signal,
      });
      const text = await response.text();
      if (!response.ok)
        throw new DocgenError({
          code: 'docgen/batch',
          message: `OpenAI batch ${path}: HTTP ${response.status}: ${text.slice(0, 300)}`,
        });
      return text;
    } finally {
      dispose();
    }
  };
  return {
    id: 'openai',
    model: options.model,
    async submit(requests: BatchRequest[], callOptions?: CallOptions) {
      const lines = requests.map(({ customId, request }) =>
        JSON.stringify({
          custom_id: customId,
          method: 'POST',
          url: '/v1/chat/completions',
          body: {
            model: options.model,
            messages: request.messages,
            temperature: request.temperature,
            max_tokens: request.maxTokens,
            ...(request.json ? { response_format: { type: 'json_object' } } : {}),
            ...(request.seed !== undefined ? { seed: request.seed } : {}),
          },
        }),
      );
      const form = new FormData();
      form.append('purpose', 'batch');
      form.append('file', new Blob([`${lines.join('\n')}\n`]), 'requests.jsonl');
      const file = JSON.parse(
        await call('/files', { method: 'POST', body: form }, callOptions),
      ) as {
        id: string;
      };
      const batch = JSON.parse(
        await call(
          '/batches',
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              input_file_id: file.id,
              endpoint: '/v1/chat/completions',
              completion_window: '24h',
            }),
          },
          callOptions,
        ),
      ) as BatchObject;
      return batch.id;
    },
    async status(batchId: string, callOptions?: CallOptions) {
      const batch = JSON.parse(await call(`/batches/${batchId}`, {}, callOptions)) as BatchObject;
      return {
        done: ['completed', 'failed', 'expired', 'cancelled'].includes(batch.status),
        completed: (batch.request_counts?.completed ?? 0) + (batch.request_counts?.failed ?? 0),
        total: batch.request_counts?.total ?? 0,
      };
    },
    async results(batchId: string, callOptions?: CallOptions) {
      const batch = JSON.parse(await call(`/batches/${batchId}`, {}, callOptions)) as BatchObject;
      const out = new Map<string, BatchItemResult>();
      for (const fileId of [batch.output_file_id, batch.error_file_id]) {
        if (!fileId) continue;
        const text = await call(`/files/${fileId}/content`, {}, callOptions);
        for (const line of text.split('\n')) {
          if (!line.trim()) continue;
          const item = JSON.parse(line) as {
            custom_id: string;
            response?: { status_code: number; body: Record<string, unknown> } | null;
            error?: { message?: string } | null;
          };
          const body = item.response?.body as
            | {
                choices?: { message?: { content?: string }; finish_reason?: string }[];
                usage?: { prompt_tokens?: number; completion_tokens?: number };
              }
            | undefined;
          if (item.response?.status_code === 200 && body?.choices?.[0]) {
            const choice = body.choices[0];
            out.set(item.custom_id, {
              ok: true,
              result: {
                text: choice.message?.content ?? '',
                finishReason: choice.finish_reason === 'length' ? 'length' : 'stop',
                promptTokens: body.usage?.prompt_tokens ?? 0,
                completionTokens: body.usage?.completion_tokens ?? 0,
              },
            });
          } else {
            out.set(item.custom_id, {
              ok: false,
              error: item.error?.message ?? `HTTP ${item.response?.status_code ?? '?'}`,
            });
          }
        }
      }
      return out;
    },
  };
}
