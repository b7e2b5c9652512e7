import { loadSpec } from '@midspec/spec';
import { describe, expect, it } from 'vitest';
import { formatPreview, previewCorpus, previewDemos } from './preview.js';
import type { TokenCounter } from './token-counter.js';

const specFile = new URL('../../../examples/specs/cheese-affordability.yaml', import.meta.url)
  .pathname;

describe('preview', () => {
  it('projects items, tokens and cost per level with the given tokenizer', async () => {
    const { spec } = await loadSpec(specFile);
    const seen: string[] = [];
    const counter: TokenCounter = {
      name: 'fixed',
      async count(texts) {
        seen.push(...texts);
        return texts.map(() => 1000);
      },
    };
    const preview = await previewCorpus({
      spec,
      provider: { id: 'openai', model: 'custom' },
      prices: { 'openai/custom': { inputPerMillion: 1, outputPerMillion: 2 } },
      tokenCounter: counter,
      config: { maxDocuments: 1000 },
    });
    const documents = preview.levels.find((level) => level.stage === 'documents');
    expect(documents).toMatchObject({
      requests: 1000,
      items: 1000,
      promptTokens: 1_000_000,
      completionTokens: 1_500_000,
    });
    expect(documents?.costUsd).toBeCloseTo(1 + 3);
    expect(preview.levels.find((level) => level.stage === 'ideas')?.items).toBe(3125);
    expect(seen[0]).toContain('When a user is choosing between Wisconsin cheddar and aged Comté');
    expect(formatPreview(preview)).toContain('tokenizer: fixed');
    const demos = await previewDemos({ spec, provider: { id: 'openai', model: 'unknown-model' } });
    expect(demos.costUsd).toBeUndefined();
    expect(formatPreview(demos)).toMatch(/cost unknown[\s\S]*estimate/);
  });
});
