import { afterEach, describe, expect, it } from 'vitest';
import { createAnthropicClient } from './anthropic-client.js';
import { fakeServer } from './test-support/fake-server.js';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('Anthropic client (official SDK)', () => {
  it('sends tool_use and tool_result blocks, caches the system prompt and counts cache usage', async () => {
    const server = await fakeServer((request) =>
      request.url.startsWith('/v1/messages/count_tokens')
        ? { body: { input_tokens: 1234 } }
        : {
            body: {
              id: 'msg_1',
              type: 'message',
              role: 'assistant',
              model: 'c',
              content: [
                { type: 'text', text: 'Cancelling.' },
                {
                  type: 'tool_use',
                  id: 'toolu_1',
                  name: 'cancel_alert',
                  input: { alert_id: 'A-1' },
                },
              ],
              stop_reason: 'tool_use',
              stop_sequence: null,
              usage: {
                input_tokens: 20,
                output_tokens: 9,
                cache_read_input_tokens: 3000,
                cache_creation_input_tokens: 0,
              },
            },
          },
    );
    close = server.close;
    const client = createAnthropicClient({ model: 'c', apiKey: 'k', baseUrl: server.url });
    const request = {
      messages: [
        { role: 'system' as const, content: 'the spec' },
        { role: 'user' as const, content: 'inbox?' },
        {
          role: 'assistant' as const,
          content: '',
          toolCalls: [
            { id: 'toolu_a', name: 'read', arguments: '{"folder":"inbox"}' },
            { id: 'toolu_b', name: 'read', arguments: '{"folder":"sent"}' },
          ],
        },
        { role: 'tool' as const, toolCallId: 'toolu_a', content: 'mail 1' },
        { role: 'tool' as const, toolCallId: 'toolu_b', content: 'mail 2' },
      ],
      temperature: 1.3,
      maxTokens: 100,
      tools: [{ name: 'read', description: 'd', parameters: { type: 'object' } }],
    };
    const result = await client.chat(request);
    expect(server.seen[0]?.body).toMatchObject({
      temperature: 1,
      system: [{ type: 'text', text: 'the spec', cache_control: { type: 'ephemeral' } }],
      tools: [{ name: 'read', input_schema: { type: 'object' } }],
      messages: [
        { role: 'user', content: 'inbox?' },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'toolu_a', name: 'read', input: { folder: 'inbox' } },
            { type: 'tool_use', id: 'toolu_b', name: 'read', input: { folder: 'sent' } },
          ],
        },
        {
          // Consecutive results share one user message, as the API requires.
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_a', content: 'mail 1' },
            { type: 'tool_result', tool_use_id: 'toolu_b', content: 'mail 2' },
          ],
        },
      ],
    });
    expect(result).toMatchObject({
      text: 'Cancelling.',
      toolCalls: [{ id: 'toolu_1', name: 'cancel_alert', arguments: '{"alert_id":"A-1"}' }],
      finishReason: 'tool-calls',
      usage: { inputTokens: 3020, outputTokens: 9, cacheReadTokens: 3000, cacheWriteTokens: 0 },
    });
    expect(await client.countTokens?.([request])).toEqual([1234]);
    expect(server.seen[1]?.url).toBe('/v1/messages/count_tokens');
    expect(server.seen[1]?.body).toMatchObject({ model: 'c', system: [{ text: 'the spec' }] });
  });

  it('names the option and the variable when the key is missing', () => {
    expect(() => createAnthropicClient({ model: 'c', env: {} })).toThrow(
      /--api-key.*ANTHROPIC_API_KEY/,
    );
  });
});
