import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { EvaluationError } from './evaluation-error.js';
import type { ChatTurn } from './expand-suite.js';

/** Turns text into a model's token ids; a chat model's tokenizer also renders its chat template. */
export interface OnnxTokenizer {
  /** Ids of `text`; `addSpecialTokens` adds what the tokenizer adds to a document (e.g. BOS). */
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  /** The chat as the model's template renders it, ending with the generation prompt. */
  renderChat?(messages: ChatTurn[]): string;
  /** Ids the tokenizer can produce (vocabulary plus added tokens); unknown for byte tokenizers. */
  readonly size?: number;
}

type TokenizerConfig = Record<string, unknown> & { chat_template?: unknown };

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new EvaluationError({
      code: 'eval/tokenizer-invalid',
      message: `${path}: ${error instanceof Error ? error.message : String(error)}`,
      cause: error,
    });
  }
}

/** The template Hugging Face would use: chat_template.jinja (transformers 5), else the config's. */
function chatTemplate(folder: string, config: TokenizerConfig): string | undefined {
  const file = join(folder, 'chat_template.jinja');
  if (existsSync(file)) return readFileSync(file, 'utf8');
  const template = config.chat_template;
  if (typeof template === 'string') return template;
  if (Array.isArray(template)) {
    // Named templates: "default" is the chat one.
    const named = template.find(
      (entry): entry is { name: string; template: string } =>
        typeof entry === 'object' &&
        entry !== null &&
        (entry as { name?: unknown }).name === 'default',
    );
    return named?.template;
  }
  return undefined;
}

/** bos_token and friends, as strings: configs write them as text or as {content: text}. */
function specialTokens(config: TokenizerConfig): Record<string, string> {
  const tokens: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (!key.endsWith('_token')) continue;
    if (typeof value === 'string') tokens[key] = value;
    else if (typeof value === 'object' && value !== null && 'content' in value)
      tokens[key] = String((value as { content: unknown }).content);
  }
  return tokens;
}

/** The turn as chat templates read it (OpenAI field names). */
function templateMessage(turn: ChatTurn): Record<string, unknown> {
  return {
    role: turn.role,
    content: turn.content,
    ...(turn.toolCalls && {
      tool_calls: turn.toolCalls.map((call) => ({
        id: call.id,
        type: 'function',
        function: { name: call.name, arguments: call.arguments },
      })),
    }),
    ...(turn.toolCallId && { tool_call_id: turn.toolCallId }),
    ...(turn.name && { name: turn.name }),
  };
}

/**
 * A model folder's own tokenizer: tokenizer.json, tokenizer_config.json and the chat template, read
 * with Hugging Face's tokenizers.js and jinja (what transformers.js uses). Throws naming the file
 * when tokenizer.json is missing or unreadable.
 */
export function loadModelTokenizer(folder: string): OnnxTokenizer {
  const tokenizerPath = join(folder, 'tokenizer.json');
  if (!existsSync(tokenizerPath)) {
    throw new EvaluationError({
      code: 'eval/tokenizer-missing',
      message: `${tokenizerPath} is missing: export the model with its tokenizer (\`midspec runs download --format onnx\` writes both)`,
    });
  }
  const json = readJson(tokenizerPath);
  const configPath = join(folder, 'tokenizer_config.json');
  const config: TokenizerConfig = existsSync(configPath) ? readJson(configPath) : {};
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(json, config);
  } catch (error) {
    throw new EvaluationError({
      code: 'eval/tokenizer-invalid',
      message: `${tokenizerPath}: ${error instanceof Error ? error.message : String(error)}`,
      cause: error,
    });
  }
  let size = 0;
  for (const id of tokenizer.get_vocab(true).values()) size = Math.max(size, id + 1);
  const source = chatTemplate(folder, config);
  const template = source === undefined ? undefined : new Template(source);
  const tokens = specialTokens(config);
  return {
    size,
    encode: (text, options = {}) =>
      tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids,
    ...(template && {
      renderChat: (messages: ChatTurn[]) =>
        template.render({
          ...tokens,
          messages: messages.map(templateMessage),
          add_generation_prompt: true,
        }),
    }),
  };
}
