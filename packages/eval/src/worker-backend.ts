import type { CallOptions } from '@midspec/core';
import {
  createWorkerClient,
  FinishReason,
  type ModelRef,
  type Prompt,
  type WorkerClient,
  type WorkerClientOptions,
  WorkerError,
} from '@midspec/proto';
import {
  type Backend,
  BackendError,
  type Pricing,
  type SampleInput,
  type SampleOutput,
  type ScoreInput,
  type ScoreOutput,
} from './backend.js';
import type { EvalPrompt } from './expand-suite.js';

export interface WorkerBackendOptions {
  /** "host:port" of a midspec worker. */
  address: string;
  /** A base model ("tiny:llama", a hub id, a path on the worker) or "run:RUN_ID[/CHECKPOINT_ID]". */
  model: string;
  client?: WorkerClientOptions;
  pricing?: Pricing;
}

/** "run:RUN_ID[/CHECKPOINT]" names a run's checkpoint (its latest when left out); anything else a base model. */
export function parseModelRef(model: string): ModelRef {
  const match = /^run:([^/]+)(?:\/(.+))?$/.exec(model);
  if (!match) return { ref: { $case: 'baseModel', baseModel: model } };
  return {
    ref: {
      $case: 'checkpoint',
      checkpoint: { runId: match[1] as string, checkpointId: match[2] ?? '', merged: false },
    },
  };
}

function toPrompt(prompt: EvalPrompt): Prompt {
  if ('text' in prompt) return { prompt: { $case: 'text', text: prompt.text } };
  return {
    prompt: {
      $case: 'chat',
      chat: {
        messages: prompt.messages.map((turn) => ({
          role: turn.role,
          content: turn.content,
          reasoning: '',
        })),
      },
    },
  };
}

/** The midspec worker's Sample and ScoreLogprobs RPCs. Tools are described in the prompt (pseudo-XML). */
export class WorkerBackend implements Backend {
  readonly id: string;
  readonly model: string;
  readonly limiterKey: string;
  readonly pricing: Pricing | undefined;
  private readonly client: WorkerClient;
  private readonly modelRef: ModelRef;

  constructor(options: WorkerBackendOptions) {
    this.client = createWorkerClient(options.address, options.client);
    this.model = options.model;
    this.modelRef = parseModelRef(options.model);
    this.pricing = options.pricing;
    this.id = `worker:${options.model}@${options.address}`;
    this.limiterKey = `worker@${options.address}`;
  }

  async sample(input: SampleInput, options?: CallOptions): Promise<SampleOutput> {
    if (input.tools && input.tools.length > 0) {
      throw new BackendError({
        backend: this.id,
        message: 'the worker has no native tool calls; use toolFormat: pseudo-xml',
        retryable: false,
        unsupported: true,
      });
    }
    const response = await this.call(() =>
      this.client.sample(
        {
          model: this.modelRef,
          prompts: [toPrompt(input.prompt)],
          params: {
            n: 1,
            temperature: input.temperature,
            maxTokens: input.maxTokens,
            ...(input.seed === undefined ? {} : { seed: input.seed }),
          },
        },
        options,
      ),
    );
    const completion = response.results[0]?.completions[0];
    if (!completion)
      throw new BackendError({
        backend: this.id,
        message: 'Sample returned no completion',
        retryable: false,
      });
    return {
      text: completion.text,
      toolCalls: [],
      finishReason:
        completion.finishReason === FinishReason.FINISH_REASON_LENGTH
          ? 'length'
          : completion.finishReason === FinishReason.FINISH_REASON_STOP
            ? 'stop'
            : 'unknown',
      usage: { inputTokens: completion.promptTokens, outputTokens: completion.completionTokens },
    };
  }

  async scoreLogprobs(items: ScoreInput[], options?: CallOptions): Promise<ScoreOutput[]> {
    const response = await this.call(() =>
      this.client.scoreLogprobs(
        {
          model: this.modelRef,
          items: items.map((item) => ({
            prompt: toPrompt(item.prompt),
            continuation: item.continuation,
          })),
        },
        options,
      ),
    );
    if (response.results.length !== items.length) {
      throw new BackendError({
        backend: this.id,
        message: `ScoreLogprobs returned ${response.results.length} results for ${items.length} items`,
        retryable: false,
      });
    }
    return response.results.map((result) => ({
      logprob: result.logprob,
      continuationTokens: result.continuationTokens,
      usage: { inputTokens: result.promptTokens + result.continuationTokens, outputTokens: 0 },
    }));
  }

  async close(): Promise<void> {
    this.client.close();
  }

  private async call<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (!WorkerError.isInstance(error)) throw error;
      const workerError = error as WorkerError;
      throw new BackendError({
        backend: this.id,
        message: workerError.message,
        retryable: workerError.isRetryable,
        rateLimited: workerError.grpcStatus === 'RESOURCE_EXHAUSTED',
        unsupported: workerError.grpcStatus === 'UNIMPLEMENTED',
        cause: error,
      });
    }
  }
}
