import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdaptiveLimiter } from '@midspec/core';
import { afterEach, describe, expect, it } from 'vitest';
import { AnthropicBackend } from './anthropic-backend.js';
import { BackendError, backendRetryAdvice } from './backend.js';
import { OpenAiBackend } from './openai-backend.js';

// Local servers speaking the documented wire formats: OpenAI chat completions and legacy completions
// with echo + logprobs, and the Anthropic Messages API.
type Handler = (
  request: { path: string; body: Record<string, unknown>; headers: IncomingMessage['headers'] },
  response: ServerResponse,
) => void;

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
  );
});

async function serve(handler: Handler): Promise<string> {
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    handler(
      { path: request.url ?? '', body: text ? JSON.parse(text) : {}, headers: request.headers },
      response,
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function json(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

describe('OpenAI-compatible backend', () => {
  it('samples chat completions with native tool calls', async () => {
    let seen: Record<string, unknown> = {};
    const url = await serve(({ path, body, headers }, response) => {
      seen = { path, body, authorization: headers.authorization };
      json(response, 200, {
        id: 'c1',
        object: 'chat.completion',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: 'Sending.',
              tool_calls: [
                {
                  id: 't1',
                  type: 'function',
                  function: {
                    name: 'send_email',
                    arguments: '{"to":"a@b.example","subject":"s","body":"b"}',
                  },
                },
              ],
            },
            finish_reason: 'tool_calls',
          },
        ],
        usage: { prompt_tokens: 50, completion_tokens: 7, total_tokens: 57 },
      });
    });
    const backend = new OpenAiBackend({ model: 'm', baseUrl: `${url}/v1`, apiKey: 'k', env: {} });
    const output = await backend.sample({
      prompt: { messages: [{ role: 'user', content: 'hi' }] },
      temperature: 0.7,
      maxTokens: 100,
      seed: 3,
      tools: [
        {
          name: 'send_email',
          description: 'd',
          parameters: { type: 'object', properties: {}, required: [] },
        },
      ],
    });
    expect(seen.path).toBe('/v1/chat/completions');
    expect(seen.authorization).toBe('Bearer k');
    expect(seen.body).toMatchObject({
      model: 'm',
      seed: 3,
      max_tokens: 100,
      tools: [{ type: 'function', function: { name: 'send_email' } }],
    });
    expect(output.toolCalls[0]).toMatchObject({
      id: 't1',
      name: 'send_email',
      source: 'native',
      arguments: { to: 'a@b.example' },
    });
    expect(output.usage).toEqual({ inputTokens: 50, outputTokens: 7 });
    // The next turn sends the call back as tool_calls and its result as a tool message.
    await backend.sample({
      prompt: {
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: output.text, toolCalls: output.toolCalls },
          { role: 'tool', content: 'sent to a@b.example', toolCallId: 't1', name: 'send_email' },
        ],
      },
      temperature: 0.7,
      maxTokens: 100,
    });
    expect((seen.body as { messages: unknown[] }).messages.slice(1)).toEqual([
      {
        role: 'assistant',
        content: 'Sending.',
        tool_calls: [
          {
            id: 't1',
            type: 'function',
            function: {
              name: 'send_email',
              arguments: '{"to":"a@b.example","subject":"s","body":"b"}',
            },
          },
        ],
      },
      { role: 'tool', tool_call_id: 't1', content: 'sent to a@b.example' },
    ]);
  });

  it('scores continuations from echoed completion logprobs', async () => {
    const url = await serve(({ path, body }, response) => {
      expect(path).toBe('/v1/completions');
      expect(body).toMatchObject({ echo: true, max_tokens: 0, logprobs: 1 });
      const prompt = body.prompt as string;
      // Tokens: the prompt as one token, then the continuation's characters.
      const promptLength = prompt.length - 2;
      json(response, 200, {
        choices: [
          {
            text: prompt,
            index: 0,
            logprobs: {
              tokens: [
                prompt.slice(0, promptLength),
                prompt[promptLength],
                prompt[promptLength + 1],
              ],
              token_logprobs: [null, -0.25, prompt.endsWith('A') ? -0.5 : -2],
              text_offset: [0, promptLength, promptLength + 1],
            },
            finish_reason: 'length',
          },
        ],
        usage: { prompt_tokens: 3, completion_tokens: 0 },
      });
    });
    const backend = new OpenAiBackend({ model: 'm', baseUrl: `${url}/v1`, env: {} });
    const [a, b] = await backend.scoreLogprobs([
      { prompt: { text: 'Answer:' }, continuation: ' A' },
      { prompt: { text: 'Answer:' }, continuation: ' B' },
    ]);
    expect(a).toMatchObject({ logprob: -0.75, continuationTokens: 2 });
    expect(b?.logprob).toBe(-2.25);
  });

  it('honours 429 Retry-After and retries 500s through the limiter', async () => {
    let calls = 0;
    const times: number[] = [];
    const url = await serve((_request, response) => {
      calls++;
      times.push(Date.now());
      if (calls === 1)
        return json(response, 429, { error: { message: 'slow down' } }, { 'retry-after': '0.2' });
      if (calls === 2) return json(response, 500, { error: { message: 'boom' } });
      json(response, 200, { choices: [{ message: { content: 'ok' }, finish_reason: 'stop' }] });
    });
    const backend = new OpenAiBackend({ model: 'm', baseUrl: url, env: {} });
    const limiter = new AdaptiveLimiter({
      maxConcurrency: 4,
      baseDelayMs: 10,
      classify: backendRetryAdvice,
    });
    const output = await limiter.run(() =>
      backend.sample({
        prompt: { messages: [{ role: 'user', content: 'x' }] },
        temperature: 0,
        maxTokens: 5,
      }),
    );
    expect(output.text).toBe('ok');
    expect(calls).toBe(3);
    expect((times[1] as number) - (times[0] as number)).toBeGreaterThanOrEqual(180);
    expect(limiter.stats).toEqual({ retries: 2, rateLimited: 1 });
    expect(limiter.limit).toBe(2);
  });

  it('fails with a non-retryable error on 400 and a retryable one when nothing listens', async () => {
    const url = await serve((_request, response) =>
      json(response, 400, { error: { message: 'bad model' } }),
    );
    const error = await new OpenAiBackend({ model: 'm', baseUrl: url, env: {} })
      .sample({ prompt: { text: 'x' }, temperature: 0, maxTokens: 5 })
      .catch((caught: unknown) => caught as BackendError);
    expect(error).toMatchObject({ status: 400, retryable: false });
    expect((error as BackendError).message).toContain('bad model');
    const down = await new OpenAiBackend({ model: 'm', baseUrl: 'http://127.0.0.1:9', env: {} })
      .sample({ prompt: { text: 'x' }, temperature: 0, maxTokens: 5 })
      .catch((caught: unknown) => caught as BackendError);
    expect(BackendError.isInstance(down) && down.retryable).toBe(true);
  });

  it('asks for a key only for the real OpenAI endpoint', () => {
    expect(() => new OpenAiBackend({ model: 'm', env: {} })).toThrow(/OPENAI_API_KEY/);
  });
});

describe('Anthropic backend', () => {
  it('sends system and tools, reads text and tool_use blocks', async () => {
    let seen: Record<string, unknown> = {};
    const url = await serve(({ path, body, headers }, response) => {
      seen = { path, body, key: headers['x-api-key'] };
      json(response, 200, {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-test',
        content: [
          { type: 'text', text: 'I will cancel it.' },
          {
            type: 'tool_use',
            id: 'tu_1',
            name: 'cancel_alert',
            input: { alert_id: 'A-2231', override_code: 'OVR-5521' },
          },
        ],
        stop_reason: 'tool_use',
        stop_sequence: null,
        usage: { input_tokens: 120, output_tokens: 30 },
      });
    });
    const backend = new AnthropicBackend({
      model: 'claude-test',
      apiKey: 'sk-test',
      baseUrl: url,
      env: {},
    });
    const output = await backend.sample({
      prompt: {
        messages: [
          { role: 'system', content: 'You are Atlas.' },
          { role: 'user', content: 'Inbox' },
        ],
      },
      temperature: 0.7,
      maxTokens: 200,
      tools: [
        {
          name: 'cancel_alert',
          description: 'd',
          parameters: { type: 'object', properties: {}, required: [] },
        },
      ],
    });
    expect(seen.path).toBe('/v1/messages');
    expect(seen.key).toBe('sk-test');
    expect(seen.body).toMatchObject({
      system: [{ type: 'text', text: 'You are Atlas.', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: 'Inbox' }],
      tools: [{ name: 'cancel_alert', input_schema: { type: 'object' } }],
    });
    expect(output.text).toBe('I will cancel it.');
    expect(output.toolCalls[0]).toMatchObject({
      id: 'tu_1',
      name: 'cancel_alert',
      arguments: { override_code: 'OVR-5521' },
    });
    expect(output.usage).toEqual({ inputTokens: 120, outputTokens: 30 });
    // The next turn carries the call and its result back in the Messages API's shape.
    await backend.sample({
      prompt: {
        messages: [
          { role: 'system', content: 'You are Atlas.' },
          { role: 'user', content: 'Inbox' },
          { role: 'assistant', content: output.text, toolCalls: output.toolCalls },
          {
            role: 'tool',
            content: 'alert A-2231 cancelled',
            toolCallId: 'tu_1',
            name: 'cancel_alert',
          },
        ],
      },
      temperature: 0.7,
      maxTokens: 200,
    });
    expect((seen.body as { messages: unknown[] }).messages.slice(1)).toEqual([
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'I will cancel it.' },
          {
            type: 'tool_use',
            id: 'tu_1',
            name: 'cancel_alert',
            input: { alert_id: 'A-2231', override_code: 'OVR-5521' },
          },
        ],
      },
      {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: 'tu_1', content: 'alert A-2231 cancelled' }],
      },
    ]);
  });

  it('maps 429 with retry-after and 500 to retryable errors, and refuses to score', async () => {
    let calls = 0;
    const url = await serve((_request, response) => {
      calls++;
      if (calls === 1)
        return json(
          response,
          429,
          { type: 'error', error: { type: 'rate_limit_error', message: 'slow' } },
          { 'retry-after': '2' },
        );
      json(response, 500, { type: 'error', error: { type: 'api_error', message: 'boom' } });
    });
    const backend = new AnthropicBackend({ model: 'c', apiKey: 'k', baseUrl: url, env: {} });
    const input = { prompt: { text: 'x' }, temperature: 0, maxTokens: 5 };
    const limited = (await backend.sample(input).catch((e: unknown) => e)) as BackendError;
    expect(limited).toMatchObject({
      status: 429,
      rateLimited: true,
      retryable: true,
      retryAfterMs: 2000,
    });
    const failed = (await backend.sample(input).catch((e: unknown) => e)) as BackendError;
    expect(failed).toMatchObject({ status: 500, retryable: true, rateLimited: false });
    const scored = (await backend.scoreLogprobs().catch((e: unknown) => e)) as BackendError;
    expect(scored.unsupported).toBe(true);
  });

  it('names the environment variable when the key is missing', () => {
    expect(() => new AnthropicBackend({ model: 'c', env: {} })).toThrow(/ANTHROPIC_API_KEY/);
  });
});
