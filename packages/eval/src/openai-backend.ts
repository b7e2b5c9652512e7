import type { CallOptions } from '@midspec/core';
import { createOpenAIClient, type ModelClient } from '@midspec/models';
import {
  type Backend,
  type Pricing,
  promptText,
  type SampleInput,
  type SampleOutput,
  type ScoreInput,
  type ScoreOutput,
} from './backend.js';
import { chatRequest, openClient, toBackendError, toSampleOutput } from './model-backend.js';

export interface OpenAiBackendOptions {
  model: string;
  /** Default: OPENAI_BASE_URL, then https://api.openai.com/v1. */
  baseUrl?: string;
  /** Default: OPENAI_API_KEY. Optional for a server on localhost. */
  apiKey?: string;
  pricing?: Pricing;
  env?: NodeJS.ProcessEnv;
}

/**
 * Any OpenAI-compatible server through @midspec/models (the official `openai` SDK): chat
 * completions for sampling (native tools supported) and the legacy completions endpoint with `echo`
 * and `logprobs` for scoring (vLLM, llama.cpp, the midspec worker's endpoint; OpenAI's own API no
 * longer offers echo). Retries are the shared limiter's, so the SDK makes none.
 */
export class OpenAiBackend implements Backend {
  readonly id: string;
  readonly model: string;
  readonly limiterKey: string;
  readonly pricing: Pricing | undefined;
  private readonly client: ModelClient;

  constructor(options: OpenAiBackendOptions) {
    this.client = openClient(() =>
      createOpenAIClient({
        model: options.model,
        baseUrl: options.baseUrl,
        apiKey: options.apiKey,
        env: options.env ?? process.env,
        maxRetries: 0,
      }),
    );
    this.model = options.model;
    this.pricing = options.pricing;
    this.id = this.client.id;
    this.limiterKey = this.client.limiterKey;
  }

  async sample(input: SampleInput, options?: CallOptions): Promise<SampleOutput> {
    try {
      if ('text' in input.prompt) {
        const complete = this.client.completeText as NonNullable<ModelClient['completeText']>;
        return toSampleOutput(
          await complete(
            {
              prompt: input.prompt.text,
              temperature: input.temperature,
              maxTokens: input.maxTokens,
              ...(input.seed === undefined ? {} : { seed: input.seed }),
            },
            options,
          ),
        );
      }
      return toSampleOutput(
        await this.client.chat(chatRequest({ ...input, prompt: input.prompt }), options),
      );
    } catch (error) {
      throw toBackendError(error, this.id);
    }
  }

  async scoreLogprobs(items: ScoreInput[], options?: CallOptions): Promise<ScoreOutput[]> {
    const score = this.client.scoreContinuations as NonNullable<ModelClient['scoreContinuations']>;
    try {
      const scores = await score(
        items.map((item) => ({ prompt: promptText(item.prompt), continuation: item.continuation })),
        options,
      );
      return scores.map((result) => ({
        logprob: result.logprob,
        continuationTokens: result.continuationTokens,
        usage: { inputTokens: result.inputTokens, outputTokens: 0 },
      }));
    } catch (error) {
      throw toBackendError(error, this.id);
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
