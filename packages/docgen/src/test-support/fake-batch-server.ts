import { anthropicMessage, openAICompletion, startFakeServer } from './fake-llm-server.js';

// Stateful fakes of the two batch APIs, in their documented wire formats, that count how many
// batches were created (each one would be paid for) and record every request.

interface Stored {
  id: string;
  createdAt: number;
  metadata: Record<string, string> | null;
  /** custom id → the request body it carries. */
  requests: { customId: string; body: Record<string, unknown> }[];
  polls: number;
}

export interface FakeBatchOptions {
  /** The text of each batched answer. */
  answer: (customId: string, body: Record<string, unknown>) => string;
  /** Polls that still see the batch running; default 1. */
  runningPolls?: number;
  /** Answers to direct (non-batch) chat requests, for the list stages. */
  chat?: (body: Record<string, unknown>) => string;
  /** Fail the first N status polls with a 500. */
  failPolls?: number;
  /** Sees every request first (a test kills its client process here). */
  onRequest?: (method: string, path: string) => void;
  /** Delay before a batch's results are sent. */
  resultsDelayMs?: number;
}

/** OpenAI Files + Batch: upload, create (with metadata), list, retrieve, download. */
export async function startFakeOpenAIBatchServer(options: FakeBatchOptions) {
  const files = new Map<string, Stored['requests']>();
  const batches: Stored[] = [];
  let failPolls = options.failPolls ?? 0;
  const object = (batch: Stored) => {
    const done = batch.polls > (options.runningPolls ?? 1);
    return {
      id: batch.id,
      object: 'batch',
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      status: done ? 'completed' : 'in_progress',
      input_file_id: `file-in-${batch.id}`,
      output_file_id: done ? `file-out-${batch.id}` : null,
      error_file_id: null,
      created_at: Math.floor(batch.createdAt / 1000),
      metadata: batch.metadata,
      request_counts: {
        total: batch.requests.length,
        completed: done ? batch.requests.length : 0,
        failed: 0,
      },
    };
  };
  const server = await startFakeServer((request) => {
    const path = request.url.split('?')[0] ?? '';
    options.onRequest?.(request.method, path);
    if (path === '/v1/chat/completions' && options.chat)
      return { body: openAICompletion(options.chat(request.body)) };
    if (path === '/v1/files' && request.method === 'POST') {
      const id = `file-${files.size + 1}`;
      files.set(
        id,
        request.raw
          .split(/\r?\n/)
          .filter((line) => line.startsWith('{"custom_id"'))
          .map((line) => JSON.parse(line) as { custom_id: string; body: Record<string, unknown> })
          .map((line) => ({ customId: line.custom_id, body: line.body })),
      );
      return {
        body: { id, object: 'file', purpose: 'batch', bytes: request.raw.length, created_at: 0 },
      };
    }
    if (path === '/v1/batches' && request.method === 'POST') {
      const batch: Stored = {
        id: `batch_${batches.length + 1}`,
        createdAt: Date.now(),
        metadata: (request.body.metadata as Record<string, string>) ?? null,
        requests: files.get(request.body.input_file_id as string) ?? [],
        polls: 0,
      };
      batches.push(batch);
      return { body: object(batch) };
    }
    if (path === '/v1/batches' && request.method === 'GET')
      return {
        body: { object: 'list', data: [...batches].reverse().map(object), has_more: false },
      };
    const batch = batches.find((item) => path === `/v1/batches/${item.id}`);
    if (batch) {
      if (failPolls > 0) {
        failPolls -= 1;
        return { status: 500, body: { error: { message: 'poll failed' } } };
      }
      batch.polls += 1;
      return { body: object(batch) };
    }
    const output = batches.find((item) => path === `/v1/files/file-out-${item.id}/content`);
    if (output)
      return {
        delayMs: options.resultsDelayMs ?? 0,
        body: output.requests
          .map((item) =>
            JSON.stringify({
              custom_id: item.customId,
              response: {
                status_code: 200,
                body: openAICompletion(options.answer(item.customId, item.body)),
              },
              error: null,
            }),
          )
          .join('\n'),
      };
    return { status: 404, body: { error: { message: `no route ${request.method} ${path}` } } };
  });
  return { ...server, batches, created: () => batches.length };
}

/** Anthropic Message Batches: create, list, retrieve, results. */
export async function startFakeAnthropicBatchServer(options: FakeBatchOptions) {
  const batches: Stored[] = [];
  let url = '';
  const object = (batch: Stored) => {
    const done = batch.polls > (options.runningPolls ?? 1);
    const size = batch.requests.length;
    return {
      id: batch.id,
      type: 'message_batch',
      processing_status: done ? 'ended' : 'in_progress',
      request_counts: {
        processing: done ? 0 : size,
        succeeded: done ? size : 0,
        errored: 0,
        canceled: 0,
        expired: 0,
      },
      results_url: done ? `${url}/v1/messages/batches/${batch.id}/results` : null,
      created_at: new Date(batch.createdAt).toISOString(),
      expires_at: new Date(batch.createdAt + 86_400_000).toISOString(),
      ended_at: null,
      cancel_initiated_at: null,
      archived_at: null,
    };
  };
  const server = await startFakeServer((request) => {
    const path = request.url.split('?')[0] ?? '';
    if (path === '/v1/messages' && options.chat)
      return { body: anthropicMessage(options.chat(request.body)) };
    if (path === '/v1/messages/batches' && request.method === 'POST') {
      const batch: Stored = {
        id: `msgbatch_${batches.length + 1}`,
        createdAt: Date.now(),
        metadata: null,
        requests: (
          request.body.requests as { custom_id: string; params: Record<string, unknown> }[]
        ).map((item) => ({ customId: item.custom_id, body: item.params })),
        polls: 0,
      };
      batches.push(batch);
      return { body: object(batch) };
    }
    if (path === '/v1/messages/batches' && request.method === 'GET')
      return { body: { data: [...batches].reverse().map(object), has_more: false } };
    const results = batches.find((item) => path === `/v1/messages/batches/${item.id}/results`);
    if (results)
      return {
        body: results.requests
          .map((item) =>
            JSON.stringify({
              custom_id: item.customId,
              result: {
                type: 'succeeded',
                message: anthropicMessage(options.answer(item.customId, item.body)),
              },
            }),
          )
          .join('\n'),
      };
    const batch = batches.find((item) => path === `/v1/messages/batches/${item.id}`);
    if (batch) {
      batch.polls += 1;
      return { body: object(batch) };
    }
    return {
      status: 404,
      body: { type: 'error', error: { type: 'not_found_error', message: path } },
    };
  });
  url = server.url;
  return { ...server, batches, created: () => batches.length };
}
