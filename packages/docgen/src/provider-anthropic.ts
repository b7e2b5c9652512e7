import { createAnthropicClient } from '@midspec/models';
import { fromModelClient } from './model-provider.js';
import type { Provider } from './provider.js';

export interface AnthropicProviderOptions {
  model: string;
  /** Default ANTHROPIC_API_KEY. */
  apiKey?: string;
  env?: NodeJS.ProcessEnv;
  /** Default https://api.anthropic.com. */
  baseUrl?: string;
  concurrency?: number;
  /** Cache the system prompt (the spec) with `cache_control`; default true. */
  cacheSpec?: boolean;
}

/**
 * Anthropic Messages through @midspec/models (the official SDK), the spec in a cached system block.
 * The engine owns retries, so the SDK makes none.
 */
export function createAnthropicProvider(options: AnthropicProviderOptions): Provider {
  const client = createAnthropicClient({
    model: options.model,
    apiKey: options.apiKey,
    baseUrl: options.baseUrl,
    env: options.env ?? process.env,
    maxRetries: 0,
    cacheSystemPrompt: options.cacheSpec ?? true,
  });
  return fromModelClient(client, {
    id: 'anthropic',
    concurrency: options.concurrency ?? 50,
    sendSeed: false,
  });
}
