import {
  createWorkerClient,
  FinishReason,
  type ModelRef,
  type WorkerClient,
  WorkerError,
} from '@midspec/proto';
import { ProviderError } from './docgen-error.js';
import type { CallOptions, CompletionRequest, CompletionResult, Provider } from './provider.js';
import type { TokenCounter } from './token-counter.js';

export interface WorkerProviderOptions {
  /** HOST:PORT of a midspec worker. */
  address: string;
  /** `tiny:llama`, a local Hugging Face folder or hub id, or `run:<runId>[:<checkpointId>]`. */
  model: string;
  token?: string;
  /** Requests in flight; default 4 (a worker batches internally). */
  concurrency?: number;
  /** An existing client (not closed by the provider). */
  client?: WorkerClient;
}

/** `run:<id>[:<checkpoint>]` is a run's checkpoint; anything else is a base model. */
export function modelRef(model: string): ModelRef {
  const run = /^run:([^:]+)(?::(.+))?$/.exec(model);
  if (run)
    return {
      ref: {
        $case: 'checkpoint',
        checkpoint: { runId: run[1] ?? '', checkpointId: run[2] ?? '', merged: false },
      },
    };
  return { ref: { $case: 'baseModel', baseModel: model } };
}

/** The midspec worker's Sample RPC. */
export function createWorkerProvider(options: WorkerProviderOptions): Provider & TokenCounter {
  const client = options.client ?? createWorkerClient(options.address, { token: options.token });
  const model = modelRef(options.model);
  return {
    id: 'worker',
    model: options.model,
    name: `worker:${options.model}`,
    defaultConcurrency: options.concurrency ?? 4,
    async complete(request: CompletionRequest, call?: CallOptions): Promise<CompletionResult> {
      try {
        const response = await client.sample(
          {
            model,
            prompts: [
              {
                prompt: {
                  $case: 'chat',
                  chat: {
                    messages: request.messages.map((message) => ({
                      role: message.role,
                      content: message.content,
                      reasoning: '',
                    })),
                  },
                },
              },
            ],
            params: {
              n: 1,
              temperature: request.temperature,
              maxTokens: request.maxTokens,
              ...(request.seed !== undefined ? { seed: request.seed } : {}),
            },
          },
          call,
        );
        const completion = response.results[0]?.completions[0];
        return {
          text: completion?.text ?? '',
          finishReason:
            completion?.finishReason === FinishReason.FINISH_REASON_LENGTH ? 'length' : 'stop',
          promptTokens: completion?.promptTokens ?? 0,
          completionTokens: completion?.completionTokens ?? 0,
        };
      } catch (error) {
        throw toProviderError(error, call?.signal);
      }
    },
    async count(texts: string[], call?: CallOptions): Promise<number[]> {
      try {
        const response = await client.tokenize({ model, texts, returnIds: false }, call);
        return response.results.map((result) => result.count);
      } catch (error) {
        throw toProviderError(error, call?.signal);
      }
    },
    close() {
      if (!options.client) client.close();
    },
  };
}

function toProviderError(error: unknown, outer: AbortSignal | undefined): unknown {
  if (outer?.aborted || !WorkerError.isInstance(error)) return error;
  const worker = error as WorkerError;
  return new ProviderError({
    provider: 'worker',
    message: worker.message,
    retryable: worker.isRetryable,
    cause: error,
  });
}
