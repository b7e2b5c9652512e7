import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendError } from './backend.js';
import { byteTokenizer, OnnxBackend } from './onnx-backend.js';

// tiny-bigram.onnx and its reference log-probabilities come from
// `python3 packages/eval/fixtures/tiny-bigram-onnx.py` (onnx + numpy).
const modelPath = fileURLToPath(new URL('../fixtures/tiny-bigram.onnx', import.meta.url));
const reference = JSON.parse(
  readFileSync(new URL('../fixtures/tiny-bigram-reference.json', import.meta.url), 'utf8'),
) as { cases: Array<{ prompt: string; continuation: string; logprob: number }> };

const backend = new OnnxBackend({ modelPath, threads: 2, tokenizer: byteTokenizer });
afterAll(() => backend.close());

describe('OnnxBackend', () => {
  it('scores continuations as numpy does, with no server', async () => {
    const results = await backend.scoreLogprobs(
      reference.cases.map(({ prompt, continuation }) => ({
        prompt: { text: prompt },
        continuation,
      })),
    );
    results.forEach((result, i) => {
      expect(result.logprob).toBeCloseTo(reference.cases[i]?.logprob as number, 4);
      expect(result.continuationTokens).toBe(reference.cases[i]?.continuation.length);
    });
  });

  it('spreads concurrent calls over the pool', async () => {
    const calls = Array.from({ length: 12 }, (_, i) =>
      backend.scoreLogprobs([{ prompt: { text: 'Answer:' }, continuation: i % 2 ? ' A' : ' B' }]),
    );
    const results = await Promise.all(calls);
    expect(results[1]?.[0]?.logprob).toBeGreaterThan(results[0]?.[0]?.logprob as number);
  });

  it('fails clearly when sampling or when a token is outside the vocabulary', async () => {
    const sampled = await backend.sample().catch((error: unknown) => error);
    expect(BackendError.isInstance(sampled) && (sampled as BackendError).unsupported).toBe(true);
    await expect(
      backend.scoreLogprobs([{ prompt: { text: 'é' }, continuation: ' A' }]),
    ).rejects.toThrow(/out of data bounds|outside the vocabulary/);
  });

  it('reports a missing model file on the call, not as a crash', async () => {
    const missing = new OnnxBackend({
      modelPath: '/nonexistent/model.onnx',
      threads: 1,
      tokenizer: byteTokenizer,
    });
    await expect(
      missing.scoreLogprobs([{ prompt: { text: 'a' }, continuation: 'b' }]),
    ).rejects.toThrow(/model\.onnx/);
    await missing.close();
  });

  it('refuses a folder without the model tokenizer.json, naming the file', () => {
    expect(() => new OnnxBackend({ modelPath: '/nonexistent/model.onnx' })).toThrow(
      /\/nonexistent\/tokenizer\.json is missing/,
    );
  });
});
