import { DocgenError } from './docgen-error.js';

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
    throw new DocgenError({
      code: 'docgen/api-key-missing',
      message: `${options.provider} API key is missing: pass it with ${options.optionName} or set the ${options.environmentVariableName} environment variable`,
    });
  }
  return key.trim();
}
