import { afterEach, describe, expect, it } from 'vitest';
import { ProviderError } from './docgen-error.js';
import { Engine } from './engine.js';
import type { CompletionRequest } from './provider.js';
import { createAnthropicProvider } from './provider-anthropic.js';
import { createOpenAIProvider } from './provider-openai.js';
import {
  anthropicMessage,
  openAICompletion,
  startFakeServer,
} from './test-support/fake-llm-server.js';

const spec = { id: 's' } as never;
const request: CompletionRequest = {
  messages: [
    { role: 'system', content: 'the spec' },
    { role: 'user', content: 'write' },
  ],
  temperature: 0.8,
  maxTokens: 100,
  seed: 42,
  task: { stage: 'documents', spec },
};
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('OpenAI-compatible provider', () => {
  it('sends the documented chat completions request and maps the response', async () => {
    const server = await startFakeServer(() => ({ body: openAICompletion('hello', 'length') }));
    close = server.close;
    const provider = createOpenAIProvider({
      model: 'm',
      baseUrl: `${server.url}/v1`,
      apiKey: 'sk-test',
    });
    const result = await provider.complete({ ...request, json: true });
    expect(result).toEqual({
      text: 'hello',
      finishReason: 'length',
      promptTokens: 11,
      completionTokens: 7,
    });
    const sent = server.requests[0];
    expect(sent?.url).toBe('/v1/chat/completions');
    expect(sent?.headers.authorization).toBe('Bearer sk-test');
    expect(sent?.body).toMatchObject({
      model: 'm',
      temperature: 0.8,
      max_tokens: 100,
      seed: 42,
      response_format: { type: 'json_object' },
      messages: request.messages,
    });
  });

  it('retries 429 after the server-given retry-after and 500s with backoff', async () => {
    const server = await startFakeServer((_request, index) => {
      if (index === 0)
        return {
          status: 429,
          headers: { 'retry-after': '0.3' },
          body: { error: { message: 'slow down' } },
        };
      if (index === 1) return { status: 500, body: { error: { message: 'oops' } } };
      return { body: openAICompletion('fine') };
    });
    close = server.close;
    const engine = new Engine({
      provider: createOpenAIProvider({ model: 'm', baseUrl: `${server.url}/v1`, apiKey: 'none' }),
      seed: 0,
      backoffBaseMs: 10,
    });
    const started = Date.now();
    const result = await engine.call(request);
    expect(result.text).toBe('fine');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(engine.retries).toBe(2);
    expect(engine.rateLimits).toBe(1);
    expect(engine.limiter.limit).toBeLessThan(50);
  });

  it('gives up after the retry cap, and does not retry a 400', async () => {
    const server = await startFakeServer((item) =>
      item.body.model === 'bad'
        ? { status: 400, body: { error: 'no' } }
        : { status: 503, body: { error: 'down' } },
    );
    close = server.close;
    const down = new Engine({
      provider: createOpenAIProvider({ model: 'm', baseUrl: `${server.url}/v1`, apiKey: 'none' }),
      seed: 0,
      maxRetries: 2,
      backoffBaseMs: 1,
    });
    await expect(down.call(request)).rejects.toThrow(/HTTP 503/);
    expect(server.requests).toHaveLength(3);
    const bad = new Engine({
      provider: createOpenAIProvider({ model: 'bad', baseUrl: `${server.url}/v1`, apiKey: 'none' }),
      seed: 0,
    });
    const error = await bad.call(request).catch((caught: unknown) => caught);
    expect(ProviderError.isInstance(error) && error.status).toBe(400);
    expect(server.requests).toHaveLength(4);
  });

  it('times out an attempt and retries it', async () => {
    const server = await startFakeServer((_request, index) => ({
      body: openAICompletion('late'),
      delayMs: index === 0 ? 1000 : 0,
    }));
    close = server.close;
    const engine = new Engine({
      provider: createOpenAIProvider({ model: 'm', baseUrl: `${server.url}/v1`, apiKey: 'none' }),
      seed: 0,
      attemptTimeoutMs: 100,
      backoffBaseMs: 1,
    });
    expect((await engine.call(request)).text).toBe('late');
    expect(engine.retries).toBe(1);
  });

  it('names the option and the variable when the key is missing', () => {
    expect(() => createOpenAIProvider({ model: 'm', env: {} })).toThrow(
      /--api-key.*OPENAI_API_KEY/,
    );
  });
});

describe('Anthropic provider (official SDK)', () => {
  it('sends the documented Messages request and maps the response', async () => {
    const server = await startFakeServer(() => ({
      body: anthropicMessage('bonjour', 'max_tokens'),
    }));
    close = server.close;
    const provider = createAnthropicProvider({
      model: 'claude-test',
      apiKey: 'sk-ant',
      baseUrl: server.url,
    });
    const result = await provider.complete(request);
    expect(result).toEqual({
      text: 'bonjour',
      finishReason: 'length',
      promptTokens: 13,
      completionTokens: 5,
    });
    const sent = server.requests[0];
    expect(sent?.url).toBe('/v1/messages');
    expect(sent?.headers['x-api-key']).toBe('sk-ant');
    expect(sent?.headers['anthropic-version']).toBeDefined();
    expect(sent?.body).toMatchObject({
      model: 'claude-test',
      max_tokens: 100,
      // The spec's system block is a prompt-cache breakpoint (read at a tenth of the price after).
      system: [{ type: 'text', text: 'the spec', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: 'write' }],
    });
  });

  it('retries 429 with retry-after and 529/500 overloads through the engine', async () => {
    const server = await startFakeServer((_request, index) => {
      if (index === 0)
        return {
          status: 429,
          headers: { 'retry-after': '0.2' },
          body: { type: 'error', error: { type: 'rate_limit_error', message: 'slow' } },
        };
      if (index === 1)
        return {
          status: 529,
          body: { type: 'error', error: { type: 'overloaded_error', message: 'busy' } },
        };
      if (index === 2)
        return {
          status: 500,
          body: { type: 'error', error: { type: 'api_error', message: 'oops' } },
        };
      return { body: anthropicMessage('ok') };
    });
    close = server.close;
    const engine = new Engine({
      provider: createAnthropicProvider({ model: 'claude-test', apiKey: 'k', baseUrl: server.url }),
      seed: 0,
      backoffBaseMs: 5,
    });
    const started = Date.now();
    expect((await engine.call(request)).text).toBe('ok');
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(server.requests).toHaveLength(4);
    expect(engine.rateLimits).toBe(1);
  });

  it('names the option and the variable when the key is missing', () => {
    expect(() => createAnthropicProvider({ model: 'm', env: {} })).toThrow(
      /--api-key.*ANTHROPIC_API_KEY/,
    );
  });
});
