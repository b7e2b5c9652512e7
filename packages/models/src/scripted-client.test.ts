import { describe, expect, it } from 'vitest';
import { createScriptedClient } from './scripted-client.js';

describe('scripted client', () => {
  it('answers from its function, records requests and reports usage', async () => {
    const client = createScriptedClient({
      answer: (request, index) =>
        index === 0
          ? `echo ${request.messages.at(-1)?.content}`
          : { text: '', toolCalls: [{ id: 't1', name: 'send', arguments: '{}' }] },
    });
    const first = await client.chat({
      messages: [{ role: 'user', content: 'hello there' }],
      temperature: 0,
      maxTokens: 5,
    });
    expect(first).toMatchObject({
      text: 'echo hello there',
      finishReason: 'stop',
      usage: { inputTokens: 3, outputTokens: 4, cacheReadTokens: 0 },
    });
    const second = await client.chat({ messages: [], temperature: 0, maxTokens: 5 });
    expect(second.finishReason).toBe('tool-calls');
    expect(client.requests).toHaveLength(2);
    const aborted = new AbortController();
    aborted.abort(new Error('stop'));
    await expect(
      client.chat({ messages: [], temperature: 0, maxTokens: 1 }, { signal: aborted.signal }),
    ).rejects.toThrow('stop');
  });
});
