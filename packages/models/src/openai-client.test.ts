import { afterEach, describe, expect, it } from 'vitest';
import { ModelError } from './model-error.js';
import { createOpenAIClient } from './openai-client.js';
import { fakeServer } from './test-support/fake-server.js';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

const completion = (message: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 0,
  model: 'm',
  choices: [
    { index: 0, message: { role: 'assistant', ...message }, finish_reason: 'stop', ...extra },
  ],
  usage: {
    prompt_tokens: 2000,
    completion_tokens: 5,
    total_tokens: 2005,
    prompt_tokens_details: { cached_tokens: 1536 },
  },
});

describe('OpenAI-compatible client (official SDK)', () => {
  it('maps tool calls both ways, logprobs and cached tokens', async () => {
    const server = await fakeServer(() => ({
      body: completion(
        {
          content: null,
          tool_calls: [
            {
              id: 'call_9',
              type: 'function',
              function: { name: 'send_email', arguments: '{"to":"x"}' },
            },
          ],
        },
        {
          finish_reason: 'tool_calls',
          logprobs: {
            content: [
              {
                token: 'a',
                logprob: -0.5,
                bytes: null,
                top_logprobs: [{ token: 'a', logprob: -0.5, bytes: null }],
              },
            ],
          },
        },
      ),
    }));
    close = server.close;
    const client = createOpenAIClient({ model: 'm', baseUrl: `${server.url}/v1`, env: {} });
    const result = await client.chat({
      messages: [
        { role: 'system', content: 'spec' },
        { role: 'user', content: 'read the mail' },
        { role: 'assistant', content: '', toolCalls: [{ name: 'read_inbox', arguments: '{}' }] },
        { role: 'tool', content: 'two messages' },
        {
          role: 'assistant',
          content: 'forwarding',
          toolCalls: [{ id: 'call_b', name: 'forward', arguments: '{"id":"1"}' }],
        },
        { role: 'tool', toolCallId: 'call_b', content: 'done' },
      ],
      temperature: 0.7,
      maxTokens: 50,
      topLogprobs: 1,
      tools: [{ name: 'send_email', description: 'd', parameters: { type: 'object' } }],
    });
    const sent = server.seen[0];
    expect(sent?.url).toBe('/v1/chat/completions');
    // A local server with no key gets no Authorization header.
    expect(sent?.headers.authorization).toBeUndefined();
    expect(sent?.body).toMatchObject({
      logprobs: true,
      top_logprobs: 1,
      tools: [{ type: 'function', function: { name: 'send_email' } }],
      messages: [
        { role: 'system', content: 'spec' },
        { role: 'user', content: 'read the mail' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_2_0', type: 'function', function: { name: 'read_inbox', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_2_0', content: 'two messages' },
        { role: 'assistant', content: 'forwarding', tool_calls: [{ id: 'call_b' }] },
        { role: 'tool', tool_call_id: 'call_b', content: 'done' },
      ],
    });
    expect(result).toMatchObject({
      toolCalls: [{ id: 'call_9', name: 'send_email', arguments: '{"to":"x"}' }],
      finishReason: 'tool-calls',
      rawFinishReason: 'tool_calls',
      usage: { inputTokens: 2000, outputTokens: 5, cacheReadTokens: 1536, cacheWriteTokens: 0 },
      logprobs: [{ token: 'a', logprob: -0.5, top: [{ token: 'a', logprob: -0.5 }] }],
    });
  });

  it("uses the SDK's own retries when asked, honouring Retry-After", async () => {
    const server = await fakeServer((_request, index) =>
      index === 0
        ? { status: 429, headers: { 'retry-after-ms': '50' }, body: { error: { message: 'slow' } } }
        : { body: completion({ content: 'ok' }) },
    );
    close = server.close;
    const client = createOpenAIClient({
      model: 'm',
      baseUrl: server.url,
      apiKey: 'k',
      maxRetries: 1,
    });
    expect(
      (
        await client.chat({
          messages: [{ role: 'user', content: 'x' }],
          temperature: 0,
          maxTokens: 1,
        })
      ).text,
    ).toBe('ok');
    expect(server.seen).toHaveLength(2);
    expect(server.seen[0]?.headers.authorization).toBe('Bearer k');
  });

  it('classifies failures once: 429 rate-limited with its wait, 400 final, no server retryable', async () => {
    const server = await fakeServer((request) =>
      request.body.model === 'bad'
        ? { status: 400, body: { error: { message: 'no such model' } } }
        : { status: 429, headers: { 'retry-after': '3' }, body: { error: { message: 'slow' } } },
    );
    close = server.close;
    const ask = (model: string, url = server.url) =>
      createOpenAIClient({ model, baseUrl: url, maxRetries: 0, env: {} })
        .chat({ messages: [{ role: 'user', content: 'x' }], temperature: 0, maxTokens: 1 })
        .then(
          () => undefined,
          (error: unknown) => error as ModelError,
        );
    expect(await ask('m')).toMatchObject({
      status: 429,
      rateLimited: true,
      retryable: true,
      retryAfterMs: 3000,
    });
    const bad = await ask('bad');
    expect(bad).toMatchObject({ status: 400, retryable: false });
    expect(bad?.message).toContain('no such model');
    const down = await ask('m', 'http://127.0.0.1:9');
    expect(ModelError.isInstance(down) && down.retryable).toBe(true);
    expect(() => createOpenAIClient({ model: 'm', env: {} })).toThrow(/--api-key.*OPENAI_API_KEY/);
  });
});
