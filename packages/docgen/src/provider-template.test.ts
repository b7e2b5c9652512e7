import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSpec, renderSpec, type Spec } from '@midspec/spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCorpus } from './corpus-pipeline.js';
import { generateDemos } from './demos-pipeline.js';
import { createTemplateProvider } from './provider-template.js';
import { isConflictGuidance } from './template-material.js';

const examples = new URL('../../../examples/specs/', import.meta.url).pathname;
const config = { domains: 5, subdomains: 5, assertions: 2, docTypes: 3, ideas: 2, seed: 1 };
let dir: string;
let spec: Spec;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'docgen-template-'));
  spec = (await loadSpec(join(examples, 'cheese-affordability.yaml'))).spec;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('template provider', () => {
  it('renders every principle: statement, rationale, value, sub-rules and conflict-case examples', async () => {
    const result = await generateCorpus({
      spec,
      provider: createTemplateProvider(),
      outDir: join(dir, 'a'),
      config,
    });
    const texts = result.documents.map((document) => document.text);
    const rendered = renderSpec(spec);
    for (const principle of rendered.principles) {
      expect(
        texts.some((text) => text.includes(principle.statement.trim())),
        principle.id,
      ).toBe(true);
      if (principle.rationale)
        expect(texts.some((text) => text.includes(principle.rationale?.trim() ?? ''))).toBe(true);
      for (const rule of principle.subRules)
        expect(texts.some((text) => text.includes(rule))).toBe(true);
      for (const example of principle.examples) {
        const sample = example.text?.trim() ?? example.transcript?.at(-1)?.content.trim() ?? '';
        expect(
          texts.some((text) => text.includes(sample)),
          `${principle.id} example`,
        ).toBe(true);
      }
    }
    const conflicts = rendered.principles.filter((principle) =>
      isConflictGuidance(rendered, principle),
    );
    expect(conflicts.length).toBeGreaterThan(0);
    // Conflict guidance reaches most documents, not a corner of the corpus.
    const withGuidance = texts.filter((text) =>
      conflicts.some((principle) => text.includes(principle.statement.trim())),
    );
    expect(withGuidance.length / texts.length).toBeGreaterThan(0.5);
    expect(
      new Set(result.documents.map((document) => document.doc_type)).size,
    ).toBeGreaterThanOrEqual(6);
    expect(result.report.drops.nearDuplicates / result.documents.length).toBeLessThan(0.5);
  });

  it('is deterministic for a seed and varies with it', async () => {
    const provider = createTemplateProvider();
    const first = await generateCorpus({
      spec,
      provider,
      outDir: join(dir, 'b1'),
      config: { ...config, ideas: 1 },
    });
    const second = await generateCorpus({
      spec,
      provider,
      outDir: join(dir, 'b2'),
      config: { ...config, ideas: 1 },
    });
    const other = await generateCorpus({
      spec,
      provider,
      outDir: join(dir, 'b3'),
      config: { ...config, ideas: 1, seed: 2 },
    });
    expect(second.documents.map((document) => document.text)).toEqual(
      first.documents.map((document) => document.text),
    );
    expect(other.documents.map((document) => document.text)).not.toEqual(
      first.documents.map((document) => document.text),
    );
  });

  it('works in rules mode and on Markdown specs', async () => {
    const markdown = (await loadSpec(join(examples, 'safety-values.md'))).spec;
    const result = await generateCorpus({
      spec: markdown,
      provider: createTemplateProvider(),
      outDir: join(dir, 'c'),
      config: { ...config, mode: 'rules', domains: 2, subdomains: 3 },
    });
    expect(result.report.stages.map((stage) => stage.stage)).not.toContain('assertions');
    expect(result.documents.length).toBeGreaterThan(10);
  });

  it('answers the demonstration stages', async () => {
    const result = await generateDemos({
      spec,
      provider: createTemplateProvider(),
      outDir: join(dir, 'd'),
      config: { domains: 1, promptsPerDomain: 10, withReasoning: true },
    });
    expect(result.examples.length).toBeGreaterThan(5);
    expect(result.withReasoning?.[0]?.messages[1]?.reasoning).toMatch(/^CA\d+ applies/);
    expect(result.withReasoning?.[0]?.messages[1]?.content).not.toContain('<reasoning>');
  });
});
