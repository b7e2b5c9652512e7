import { createServer } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkerFixture, type WorkerFixture } from './worker-fixture.js';

// The worker's OpenAI-compatible HTTP API (--openai-port), driven by the official openai SDK,
// a client we did not write.
let fixture: WorkerFixture;
let openai: OpenAI;

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  const port = await freePort();
  fixture = await startWorkerFixture(['--openai-port', String(port)]);
  openai = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'unused', maxRetries: 0 });
}, 180_000);

afterAll(async () => {
  await fixture?.close();
});

describe('OpenAI-compatible HTTP API ↔ openai SDK', () => {
  it('lists the built-in models', async () => {
    const ids: string[] = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids).toEqual(expect.arrayContaining(['tiny:llama', 'tiny:qwen3']));
  });

  it('answers chat completions, plain and streamed, the same for the same seed', async () => {
    const request = {
      model: 'tiny:llama',
      messages: [{ role: 'user' as const, content: 'Which cheese should I buy?' }],
      max_tokens: 8,
      temperature: 0.8,
      seed: 3,
    };
    const plain = await openai.chat.completions.create(request, { timeout: 120_000 });
    const choice = plain.choices[0];
    expect(choice?.message.role).toBe('assistant');
    expect(typeof choice?.message.content).toBe('string');
    expect(['stop', 'length']).toContain(choice?.finish_reason);
    expect(plain.usage?.completion_tokens).toBeGreaterThan(0);
    expect(plain.usage?.completion_tokens).toBeLessThanOrEqual(8);

    const stream = await openai.chat.completions.create({
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(choice?.message.content);
    expect(finish).toBe(choice?.finish_reason);
    expect(usage?.completion_tokens).toBe(plain.usage?.completion_tokens);
  }, 120_000);

  it('scores a prompt with echo and logprobs, as log-likelihood harnesses do', async () => {
    const prompt = 'The assistant is honest';
    const completion = await openai.completions.create({
      model: 'tiny:llama',
      prompt,
      max_tokens: 0,
      echo: true,
      logprobs: 1,
      temperature: 0,
    });
    const choice = completion.choices[0];
    expect(choice?.text).toBe(prompt);
    const logprobs = choice?.logprobs;
    expect(logprobs?.tokens?.join('')).toBe(prompt);
    expect(logprobs?.token_logprobs?.[0]).toBeNull();
    const rest = (logprobs?.token_logprobs ?? []).slice(1) as number[];
    expect(rest.every((value) => value < 0)).toBe(true);
    expect(logprobs?.top_logprobs?.slice(1).every((top) => Object.keys(top).length === 1)).toBe(
      true,
    );

    // The same numbers as the gRPC ScoreLogprobs RPC for the same split.
    const [first, ...continuation] = logprobs?.tokens ?? [];
    const scored = await fixture.client.scoreLogprobs({
      model: { ref: { $case: 'baseModel', baseModel: 'tiny:llama' } },
      items: [
        {
          prompt: { prompt: { $case: 'text', text: first ?? '' } },
          continuation: continuation.join(''),
        },
      ],
      perToken: true,
    });
    const tokens = scored.results[0]?.tokens.map((token) => token.logprob) ?? [];
    expect(tokens.length).toBe(rest.length);
    tokens.forEach((value, index) => {
      expect(value).toBeCloseTo(rest[index] as number, 4);
    });
  }, 120_000);

  it('streams text completions and reports unknown models as 404', async () => {
    const stream = await openai.completions.create({
      model: 'tiny:qwen3',
      prompt: 'Rule one:',
      max_tokens: 6,
      seed: 1,
      stream: true,
    });
    let finish: string | null | undefined;
    for await (const chunk of stream) finish = chunk.choices[0]?.finish_reason ?? finish;
    expect(['stop', 'length']).toContain(finish);
    await expect(
      openai.completions.create({ model: 'tiny:gpt9', prompt: 'x', max_tokens: 1 }),
    ).rejects.toMatchObject({ status: 404 });
  }, 120_000);
});
