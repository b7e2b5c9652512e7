import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BatchClient,
  createAnthropicBatchClient,
  createOpenAIBatchClient,
} from '@midspec/models';
import { loadSpec } from '@midspec/spec';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateCorpus } from './corpus-pipeline.js';
import { createTemplateProvider } from './provider-template.js';
import {
  startFakeAnthropicBatchServer,
  startFakeOpenAIBatchServer,
} from './test-support/fake-batch-server.js';

// A crash at each point of a batch's life (before the send, between the send and the journal
// line, while polling, while downloading) must lose nothing and pay nothing twice: the rerun
// reattaches to the batch the provider already has. The fake servers count batch creations.

const specFile = new URL('../../../examples/specs/cheese-affordability.yaml', import.meta.url)
  .pathname;
const config = {
  domains: 1,
  subdomains: 2,
  assertions: 1,
  docTypes: 2,
  ideas: 2,
  minDocumentChars: 5,
};
const DOCUMENTS = 8;
const answer = (customId: string) => `Document ${customId}: the rule, and the reason behind it.`;

type Point = 'before-submit' | 'after-submit' | 'polling' | 'downloading';

/** The real client, except that its `call`-th use at `point` throws, as a killed process would stop. */
function crashing(inner: BatchClient, point: Point, call = 1): BatchClient {
  let seen = 0;
  const maybeCrash = (here: Point) => {
    if (here !== point) return;
    seen += 1;
    if (seen === call) throw new Error(`simulated crash ${point}`);
  };
  return {
    ...inner,
    async submit(items, intent, options) {
      maybeCrash('before-submit');
      const id = await inner.submit(items, intent, options);
      maybeCrash('after-submit');
      return id;
    },
    async status(id, options) {
      maybeCrash('polling');
      return inner.status(id, options);
    },
    async results(id, options) {
      maybeCrash('downloading');
      return inner.results(id, options);
    },
  };
}

let dir: string;
let close: (() => Promise<void>) | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'docgen-batch-crash-'));
});
afterEach(async () => {
  await close?.();
  close = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function run(batch: BatchClient) {
  const { spec } = await loadSpec(specFile);
  return generateCorpus({
    spec,
    provider: createTemplateProvider(),
    batch,
    batchPollIntervalMs: 5,
    outDir: dir,
    config,
  });
}

async function journal() {
  return (await readFile(join(dir, 'stages/batches/documents.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { event: string });
}

describe('batch submission survives a crash at any point', () => {
  for (const point of ['before-submit', 'after-submit', 'polling', 'downloading'] as const) {
    it(`OpenAI: a crash ${point} reattaches and pays once`, async () => {
      const server = await startFakeOpenAIBatchServer({ answer });
      close = server.close;
      const client = createOpenAIBatchClient({
        model: 'gpt-test',
        baseUrl: `${server.url}/v1`,
        apiKey: 'k',
      });
      await expect(run(crashing(client, point))).rejects.toThrow(`simulated crash ${point}`);
      // The intent is always on disk before anything is sent.
      expect((await journal())[0]?.event).toBe('intent');
      expect(server.created()).toBe(point === 'before-submit' ? 0 : 1);

      const result = await run(client);
      expect(server.created()).toBe(1);
      expect(result.documents).toHaveLength(DOCUMENTS);
      expect((await journal()).map((entry) => entry.event)).toEqual([
        'intent',
        'submitted',
        'collected',
      ]);
      if (point === 'after-submit') {
        // The batch was found by the intent id in its metadata.
        expect(
          server.requests.some((r) => r.method === 'GET' && r.url.startsWith('/v1/batches?')),
        ).toBe(true);
      }
    });
  }

  it('Anthropic: a crash between the send and the journal line finds the batch by its custom ids', async () => {
    const server = await startFakeAnthropicBatchServer({ answer });
    close = server.close;
    const client = createAnthropicBatchClient({
      model: 'claude-test',
      apiKey: 'k',
      baseUrl: server.url,
    });
    await expect(run(crashing(client, 'after-submit'))).rejects.toThrow('simulated crash');
    expect(server.created()).toBe(1);
    const result = await run(client);
    expect(server.created()).toBe(1);
    expect(result.documents).toHaveLength(DOCUMENTS);
  });

  it('splits at the API limits and, after a crash between two parts, sends only the missing one', async () => {
    const server = await startFakeOpenAIBatchServer({ answer, failPolls: 2 });
    close = server.close;
    const client = createOpenAIBatchClient({
      model: 'gpt-test',
      baseUrl: `${server.url}/v1`,
      apiKey: 'k',
      limits: { maxRequests: 3, maxBytes: 200 * 1024 * 1024 },
    });
    await expect(run(crashing(client, 'after-submit', 2))).rejects.toThrow('simulated crash');
    expect(server.created()).toBe(2);
    const result = await run(client);
    // 8 documents at 3 per batch: 3 batches, each created once; two failed polls were retried.
    expect(server.created()).toBe(3);
    expect(server.batches.map((batch) => batch.requests.length)).toEqual([3, 3, 2]);
    expect(result.documents).toHaveLength(DOCUMENTS);
  });

  it('splits at the size limit', async () => {
    const server = await startFakeOpenAIBatchServer({ answer });
    close = server.close;
    const client = createOpenAIBatchClient({
      model: 'gpt-test',
      baseUrl: `${server.url}/v1`,
      apiKey: 'k',
    });
    const { spec } = await loadSpec(specFile);
    // Each request carries the whole spec: about 20 kB. Room for two per batch.
    const oneRequest = client.itemBytes({
      customId: 'x',
      request: {
        messages: [{ role: 'user', content: JSON.stringify(spec) }],
        temperature: 0,
        maxTokens: 1,
      },
    });
    const sized = { ...client, limits: { maxRequests: 50_000, maxBytes: oneRequest * 2.5 } };
    const result = await run(sized);
    expect(result.documents).toHaveLength(DOCUMENTS);
    expect(server.created()).toBeGreaterThanOrEqual(3);
    for (const batch of server.batches) expect(batch.requests.length).toBeLessThanOrEqual(3);
  });
});
