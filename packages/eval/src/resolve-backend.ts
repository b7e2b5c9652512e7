import { AnthropicBackend } from './anthropic-backend.js';
import type { Backend } from './backend.js';
import { EvaluationError } from './evaluation-error.js';
import { OnnxBackend } from './onnx-backend.js';
import { OpenAiBackend } from './openai-backend.js';
import { WorkerBackend } from './worker-backend.js';

export const BACKEND_REF_HELP = `a model reference, optionally named NAME=REF:
  worker://HOST:PORT/MODEL   midspec worker (MODEL: tiny:llama, a hub id, run:RUN_ID[/CHECKPOINT])
  openai:MODEL[@BASE_URL]    OpenAI-compatible HTTP (OPENAI_API_KEY, OPENAI_BASE_URL)
  anthropic:MODEL            Anthropic Messages API (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL)
  onnx:PATH                  an exported ONNX model scored locally (its tokenizer.json beside it)`;

/** Parses "[NAME=]REF" into an arm name and a backend. */
export function resolveBackend(
  reference: string,
  env: NodeJS.ProcessEnv = process.env,
): { name: string; backend: Backend } {
  const named = /^([A-Za-z0-9][A-Za-z0-9._-]*)=(.+)$/.exec(reference);
  const ref = named ? (named[2] as string) : reference;
  const fail = (why: string) =>
    new EvaluationError({
      code: 'eval/invalid-model-ref',
      message: `invalid model reference "${reference}": ${why}\nExpected ${BACKEND_REF_HELP}`,
    });
  const colon = ref.indexOf(':');
  if (colon < 0) throw fail('no scheme');
  const scheme = ref.slice(0, colon);
  const rest = ref.slice(colon + 1);
  let backend: Backend;
  let defaultName: string;
  if (scheme === 'worker') {
    const match = /^\/\/([^/]+)\/(.+)$/.exec(rest);
    if (!match) throw fail('use worker://HOST:PORT/MODEL');
    backend = new WorkerBackend({ address: match[1] as string, model: match[2] as string });
    defaultName = match[2] as string;
  } else if (scheme === 'openai') {
    const at = rest.indexOf('@');
    const model = at < 0 ? rest : rest.slice(0, at);
    if (!model) throw fail('no model name');
    backend = new OpenAiBackend({ model, env, ...(at < 0 ? {} : { baseUrl: rest.slice(at + 1) }) });
    defaultName = model;
  } else if (scheme === 'anthropic') {
    if (!rest) throw fail('no model name');
    backend = new AnthropicBackend({ model: rest, env });
    defaultName = rest;
  } else if (scheme === 'onnx') {
    if (!rest) throw fail('no path');
    backend = new OnnxBackend({ modelPath: rest });
    defaultName =
      rest
        .split('/')
        .pop()
        ?.replace(/\.onnx$/, '') ?? rest;
  } else {
    throw fail(`unknown scheme "${scheme}"`);
  }
  return {
    name: named ? (named[1] as string) : defaultName.replace(/[^A-Za-z0-9._-]+/g, '-'),
    backend,
  };
}
