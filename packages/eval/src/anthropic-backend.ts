import type { CallOptions } from '@midspec/core';
import { createAnthropicClient, type ModelClient } from '@midspec/models';
import {
  type Backend,
  BackendError,
  type Pricing,
  type SampleInput,
  type SampleOutput,
  type ScoreOutput,
} from './backend.js';
import { chatRequest, openClient, toBackendError, toSampleOutput } from './model-backend.js';

export interface AnthropicBackendOptions {
  model: string;
  /** Default: ANTHROPIC_API_KEY. */
  apiKey?: string;
  /** Default: ANTHROPIC_BASE_URL, then the SDK's default. */
  baseUrl?: string;
  pricing?: Pricing;
  env?: NodeJS.ProcessEnv;
}

/**
 * The Anthropic Messages API through @midspec/models (the official SDK): tool calls as `tool_use`
 * and `tool_result` blocks, the system prompt cached. Retries are the shared limiter's.
 */
export class AnthropicBackend implements Backend {
  readonly id: string;
  readonly model: string;
  readonly limiterKey: string;
  readonly pricing: Pricing | undefined;
  private readonly client: ModelClient;

  constructor(options: AnthropicBackendOptions) {
    this.client = openClient(() =>
      createAnthropicClient({
        model: options.model,
        apiKey: options.apiKey,
        baseUrl: options.baseUrl,
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
    const prompt =
      'text' in input.prompt
        ? { messages: [{ role: 'user' as const, content: input.prompt.text }] }
        : input.prompt;
    try {
      return toSampleOutput(await this.client.chat(chatRequest({ ...input, prompt }), options));
    } catch (error) {
      throw toBackendError(error, this.id);
    }
  }

  async scoreLogprobs(): Promise<ScoreOutput[]> {
    throw new BackendError({
      backend: this.id,
      message:
        'the Messages API returns no log-probabilities; score preference suites with the worker, an OpenAI-compatible server or ONNX',
      retryable: false,
      unsupported: true,
    });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
