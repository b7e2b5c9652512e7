import { ModelError } from './model-error.js';

/** An explicit key first, then the environment variable; the error names both. */
export function loadApiKey(options: {
  apiKey: string | undefined;
  environmentVariableName: string;
  optionName: string;
  provider: string;
  env?: NodeJS.ProcessEnv;
}): string {
  const key = options.apiKey ?? (options.env ?? process.env)[options.environmentVariableName];
  if (key === undefined || key.trim() === '') {
    throw new ModelError({
      code: 'models/api-key-missing',
      provider: options.provider,
      message: `API key is missing: pass it with ${options.optionName} or set the ${options.environmentVariableName} environment variable`,
    });
  }
  return key.trim();
}

/** Local servers (vLLM, Ollama, the worker's endpoint) usually need no key. */
export function isLocalUrl(url: string): boolean {
  return /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])[:/]/.test(`${url.replace(/\/+$/, '')}/`);
}
