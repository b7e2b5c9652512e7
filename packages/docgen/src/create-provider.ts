import { DocgenError } from './docgen-error.js';
import type { Provider } from './provider.js';
import { createAnthropicProvider } from './provider-anthropic.js';
import { createOpenAIProvider } from './provider-openai.js';
import { createTemplateProvider } from './provider-template.js';
import { createWorkerProvider } from './provider-worker.js';

export type ProviderName = 'template' | 'openai' | 'anthropic' | 'worker';
export const PROVIDER_NAMES: readonly ProviderName[] = [
  'template',
  'openai',
  'anthropic',
  'worker',
];

export interface CreateProviderOptions {
  provider: ProviderName;
  model?: string;
  apiKey?: string;
  baseUrl?: string;
  /** The worker's HOST:PORT (worker provider). */
  worker?: string;
  workerToken?: string;
  concurrency?: number;
  env?: NodeJS.ProcessEnv;
}

const DEFAULT_MODELS: Record<ProviderName, string> = {
  template: 'template',
  openai: 'gpt-4.1-mini',
  anthropic: 'claude-sonnet-4-5',
  worker: 'tiny:llama',
};

/** A provider by name, with the model defaults the CLI documents. */
export function createProvider(options: CreateProviderOptions): Provider {
  const model = options.model ?? DEFAULT_MODELS[options.provider];
  switch (options.provider) {
    case 'template':
      return createTemplateProvider();
    case 'openai':
      return createOpenAIProvider({
        model,
        apiKey: options.apiKey,
        baseUrl: options.baseUrl,
        concurrency: options.concurrency,
        env: options.env,
      });
    case 'anthropic':
      return createAnthropicProvider({
        model,
        apiKey: options.apiKey,
        baseUrl: options.baseUrl,
        concurrency: options.concurrency,
        env: options.env,
      });
    case 'worker': {
      const address = options.worker ?? options.env?.MIDSPEC_WORKER;
      if (!address)
        throw new DocgenError({
          code: 'docgen/config',
          message:
            'the worker provider needs an address: pass --worker HOST:PORT or set MIDSPEC_WORKER',
        });
      return createWorkerProvider({
        address,
        model,
        token: options.workerToken,
        concurrency: options.concurrency,
      });
    }
    default:
      throw new DocgenError({
        code: 'docgen/config',
        message: `unknown provider "${String(options.provider)}" (one of ${PROVIDER_NAMES.join(', ')})`,
      });
  }
}
