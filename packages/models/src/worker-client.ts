import {
  createWorkerClient,
  FinishReason,
  type ModelRef,
  type Prompt,
  type WorkerClient,
  WorkerError,
} from '@midspec/proto';
import type {
  CallOptions,
  ChatMessage,
  ChatRequest,
  ChatResult,
  ContinuationScore,
  ModelClient,
  TextRequest,
} from './chat.js';
import { ModelError } from './model-error.js';

export interface WorkerModelClientOptions {
  /** HOST:PORT of a midspec worker. */
  address: string;
  /** `tiny:llama`, a Hugging Face id or folder on the worker, or `run:<id>[:<checkpoint>]`. */
  model: string;
  token?: string;
  /** An existing client (not closed by this one). */
  client?: WorkerClient;
}

/** `run:<id>[:<checkpoint>]` (or `run:<id>/<checkpoint>`) is a run's checkpoint; anything else a base model. */
export function workerModelRef(model: string): ModelRef {
  const run = /^run:([^:/]+)(?:[:/](.+))?$/.exec(model);
  if (run)
    return {
      ref: {
        $case: 'checkpoint',
        checkpoint: { runId: run[1] ?? '', checkpointId: run[2] ?? '', merged: false },
      },
    };
  return { ref: { $case: 'baseModel', baseModel: model } };
}

/**
 * The midspec worker's Sample, ScoreLogprobs and Tokenize RPCs. The contract has no native tool
 * calls: an assistant turn's calls are written into its text as `<tool_use name="…">{…}</tool_use>`
 * (the form eval's pseudo-XML tool format parses back).
 */
export function createWorkerModelClient(options: WorkerModelClientOptions): ModelClient {
  const client = options.client ?? createWorkerClient(options.address, { token: options.token });
  const model = workerModelRef(options.model);
  const id = `worker:${options.model}@${options.address}`;
  const sample = async (prompt: Prompt, request: TextRequest | ChatRequest, call?: CallOptions) => {
    if ('tools' in request && request.tools?.length)
      throw new ModelError({
        code: 'models/unsupported',
        provider: id,
        message:
          'the worker has no native tool calls; describe the tools in the prompt (pseudo-XML)',
      });
    let response: Awaited<ReturnType<WorkerClient['sample']>>;
    try {
      response = await client.sample(
        {
          model,
          prompts: [prompt],
          params: {
            n: 1,
            temperature: request.temperature,
            maxTokens: request.maxTokens,
            ...(request.seed !== undefined ? { seed: request.seed } : {}),
          },
        },
        call,
      );
    } catch (error) {
      throw fromWorkerError(error, id, call?.signal);
    }
    const completion = response.results[0]?.completions[0];
    if (!completion)
      throw new ModelError({
        code: 'models/bad-response',
        provider: id,
        message: 'Sample returned no completion',
      });
    const length = completion.finishReason === FinishReason.FINISH_REASON_LENGTH;
    return {
      text: completion.text,
      toolCalls: [],
      finishReason: length ? 'length' : 'stop',
      rawFinishReason: length ? 'length' : 'stop',
      refusal: false,
      usage: {
        inputTokens: completion.promptTokens,
        outputTokens: completion.completionTokens,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
      },
    } satisfies ChatResult;
  };
  return {
    provider: 'worker',
    model: options.model,
    id,
    limiterKey: `worker@${options.address}`,
    chat: (request, call) => sample(chatPrompt(request.messages), request, call),
    completeText: (request, call) =>
      sample({ prompt: { $case: 'text', text: request.prompt } }, request, call),
    async scoreContinuations(items, call): Promise<ContinuationScore[]> {
      try {
        const response = await client.scoreLogprobs(
          {
            model,
            items: items.map((item) => ({
              prompt: { prompt: { $case: 'text', text: item.prompt } },
              continuation: item.continuation,
            })),
          },
          call,
        );
        return response.results.map((result) => ({
          logprob: result.logprob,
          continuationTokens: result.continuationTokens,
          inputTokens: result.promptTokens + result.continuationTokens,
        }));
      } catch (error) {
        throw fromWorkerError(error, id, call?.signal);
      }
    },
    async countTokens(requests, call): Promise<number[]> {
      const texts = requests.map((request) =>
        request.messages.map((message) => message.content).join('\n'),
      );
      return countTexts(client, model, id, texts, call);
    },
    async close() {
      if (!options.client) client.close();
    },
  };
}

/** Token counts of plain texts with the worker's Tokenize RPC (the model's own tokenizer). */
export async function countTexts(
  client: WorkerClient,
  model: ModelRef,
  id: string,
  texts: string[],
  call?: CallOptions,
): Promise<number[]> {
  try {
    const response = await client.tokenize({ model, texts, returnIds: false }, call);
    return response.results.map((result) => result.count);
  } catch (error) {
    throw fromWorkerError(error, id, call?.signal);
  }
}

function chatPrompt(messages: ChatMessage[]): Prompt {
  return {
    prompt: {
      $case: 'chat',
      chat: {
        messages: messages.map((message) => ({
          role: message.role,
          content: message.toolCalls?.length
            ? [
                message.content,
                ...message.toolCalls.map(
                  (call) => `<tool_use name="${call.name}">${call.arguments}</tool_use>`,
                ),
              ]
                .filter(Boolean)
                .join('\n')
            : message.content,
          reasoning: '',
        })),
      },
    },
  };
}

function fromWorkerError(error: unknown, id: string, outer: AbortSignal | undefined): unknown {
  if (outer?.aborted || !WorkerError.isInstance(error)) return error;
  const worker = error as WorkerError;
  return new ModelError({
    provider: id,
    message: worker.message,
    retryable: worker.isRetryable,
    cause: error,
  });
}
