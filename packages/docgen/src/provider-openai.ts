import { createOpenAIClient } from '@midspec/models';
import { fromModelClient } from './model-provider.js';
import type { Provider } from './provider.js';

export interface OpenAIProviderOptions {
  model: string;
  /** Default https://api.openai.com/v1; vLLM, Ollama, Together and the worker's endpoint work too. */
  baseUrl?: string;
  /** Default OPENAI_API_KEY; a server on localhost needs none. */
  apiKey?: string;
  env?: NodeJS.ProcessEnv;
  /** Requests in flight; default 50. */
  concurrency?: number;
  /** Send `seed` (OpenAI, vLLM and Ollama accept it). Default true. */
  sendSeed?: boolean;
}

/**
 * OpenAI-compatible chat completions through @midspec/models (the official `openai` SDK). The
 * engine owns retries around its adaptive limiter, so the SDK makes none.
 */
export function createOpenAIProvider(options: OpenAIProviderOptions): Provider {
  const client = createOpenAIClient({
    model: options.model,
    baseUrl: options.baseUrl ?? 'https://api.openai.com/v1',
    apiKey: options.apiKey,
    env: options.env ?? process.env,
    maxRetries: 0,
  });
  return fromModelClient(client, {
    id: 'openai',
    concurrency: options.concurrency ?? 50,
    sendSeed: options.sendSeed ?? true,
  });
}
