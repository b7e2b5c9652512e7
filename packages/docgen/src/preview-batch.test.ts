import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOpenAIBatchClient } from '@midspec/models';
import { loadSpec, renderMarkdown } from '@midspec/spec';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateCorpus } from './corpus-pipeline.js';
import { formatPreview, previewCorpus } from './preview.js';
import { createOpenAIProvider } from './provider-openai.js';
import { startFakeOpenAIBatchServer } from './test-support/fake-batch-server.js';
import { trainBpe } from './test-support/train-bpe.js';
import { loadTokenizerJson } from './tokenizer-json.js';

// `docs preview --batch` against what a run actually sends: the fake server records every prompt
// (list stages directly, documents through the Batch API); both sides are counted with the same
// BPE tokenizer.json. The fake answers list stages with items of a model's usual size (a short
// name, a two-sentence description).

const specFile = new URL('../../../examples/specs/cheese-affordability.yaml', import.meta.url)
  .pathname;
const config = { domains: 2, subdomains: 2, assertions: 2, docTypes: 2, ideas: 2 };
const DESCRIPTION = [
  'Shoppers comparing two cheeses at the counter ask which one is the better buy for a weeknight dinner.',
  'The assistant weighs price per serving against taste and says why the cheaper option usually wins.',
];

let dir: string;
let close: (() => Promise<void>) | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'docgen-preview-batch-'));
});
afterEach(async () => {
  await close?.();
  close = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('preview --batch', () => {
  it('matches the prompt tokens actually sent within 10 % and shows the discount and cache reads', async () => {
    const { spec } = await loadSpec(specFile);
    const tokenizerFile = join(dir, 'tokenizer.json');
    await writeFile(tokenizerFile, JSON.stringify(trainBpe(renderMarkdown(spec), 400)));
    const counter = await loadTokenizerJson(tokenizerFile);
    let calls = 0;
    const server = await startFakeOpenAIBatchServer({
      answer: (customId) =>
        `A document (${customId}) on choosing cheese by price. ${DESCRIPTION.join(' ').repeat(4)}`,
      chat: (body) => {
        calls += 1;
        const messages = body.messages as { content: string }[];
        const count = Number(/(?:List|Write) (\d+)/.exec(messages.at(-1)?.content ?? '')?.[1] ?? 1);
        return JSON.stringify({
          items: Array.from({ length: count }, (_, index) => ({
            name: `Item ${calls}.${index} about cheese prices`,
            description: DESCRIPTION.join(' '),
          })),
        });
      },
    });
    close = server.close;
    const model = 'gpt-4.1-mini';
    const result = await generateCorpus({
      spec,
      provider: createOpenAIProvider({ model, baseUrl: `${server.url}/v1`, apiKey: 'k' }),
      batch: createOpenAIBatchClient({ model, baseUrl: `${server.url}/v1`, apiKey: 'k' }),
      batchPollIntervalMs: 5,
      outDir: join(dir, 'out'),
      config,
    });
    // The run's own report prices the batched documents at the batch discount (fake usage: 11
    // prompt and 7 completion tokens per answer, gpt-4.1-mini at $0.40 / $1.60 per million).
    const documentsYield = result.report.stages.find((stage) => stage.stage === 'documents');
    expect(documentsYield?.batched).toBe(documentsYield?.items);
    expect(documentsYield?.costUsd).toBeCloseTo(
      ((documentsYield?.items ?? 0) * (11 * 0.4 + 7 * 1.6)) / 1e6 / 2,
      12,
    );
    const sentPrompts = [
      ...server.requests
        .filter((request) => request.url === '/v1/chat/completions')
        .map((request) => request.body.messages as { content: string }[]),
      ...server.batches.flatMap((batch) =>
        batch.requests.map((item) => item.body.messages as { content: string }[]),
      ),
    ].map((messages) => messages.map((message) => message.content).join('\n'));
    const sent = (await counter.count(sentPrompts)).reduce((sum, count) => sum + count, 0);

    const preview = await previewCorpus({
      spec,
      provider: { id: 'openai', model },
      tokenCounter: counter,
      config,
      batch: true,
    });
    expect(preview.levels.reduce((sum, level) => sum + level.requests, 0)).toBe(sentPrompts.length);
    expect(Math.abs(preview.promptTokens - sent) / sent).toBeLessThan(0.1);
    const documents = preview.levels.find((level) => level.stage === 'documents');
    expect(documents?.batch).toBe(true);
    expect(documents?.requests).toBe(server.batches[0]?.requests.length);
    expect(preview.cacheReadTokens).toBeGreaterThan(0);
    expect(preview.costUsd).toBeLessThan(preview.listCostUsd ?? 0);
    const text = formatPreview(preview);
    expect(text).toMatch(/batch: documents through the batch API at the batch discount/);
    expect(text).toMatch(/cache reads/);
    expect(text).toContain(`tokenizer: tokenizer.json:${tokenizerFile}`);
  });
});
