import { createWorkerProvider } from '@midspec/docgen';
import type { GetCapabilitiesResponse } from '@midspec/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkerFixture, type WorkerFixture } from './worker-fixture.js';

// The docgen worker provider against the real Python worker. Sample and Tokenize are added to the
// worker separately: each check is skipped only while the worker's GetCapabilities does not list it.
let fixture: WorkerFixture;
let capabilities: GetCapabilitiesResponse;

beforeAll(async () => {
  fixture = await startWorkerFixture();
  capabilities = await fixture.client.getCapabilities({});
}, 180_000);

afterAll(async () => {
  await fixture?.close();
});

describe('docgen worker provider ↔ Python worker', () => {
  it('samples a completion with the Sample RPC', async (context) => {
    if (!capabilities.implementedRpcs.includes('Sample')) context.skip();
    const provider = createWorkerProvider({ address: fixture.worker.address, model: 'tiny:llama' });
    try {
      const result = await provider.complete(
        {
          messages: [{ role: 'user', content: 'Which cheese should I buy?' }],
          temperature: 0.8,
          maxTokens: 8,
          seed: 1,
          task: { stage: 'documents', spec: {} as never },
        },
        { timeoutMs: 120_000 },
      );
      expect(typeof result.text).toBe('string');
      expect(result.completionTokens).toBeGreaterThan(0);
      expect(result.completionTokens).toBeLessThanOrEqual(8);
      expect(['stop', 'length']).toContain(result.finishReason);
    } finally {
      provider.close?.();
    }
  });

  it('counts tokens with the Tokenize RPC', async (context) => {
    if (!capabilities.implementedRpcs.includes('Tokenize')) context.skip();
    const provider = createWorkerProvider({ address: fixture.worker.address, model: 'tiny:llama' });
    try {
      const [short, long] = await provider.count(['cheese', 'cheese '.repeat(50)]);
      expect(short).toBeGreaterThan(0);
      expect(long).toBeGreaterThan(short as number);
    } finally {
      provider.close?.();
    }
  });
});
