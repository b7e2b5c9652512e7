import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSpec, type Spec } from '@midspec/spec';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateCorpus } from './corpus-pipeline.js';
import { ProviderError } from './docgen-error.js';
import type { Provider } from './provider.js';
import { createTemplateProvider } from './provider-template.js';

const specFile = new URL('../../../examples/specs/cheese-affordability.yaml', import.meta.url)
  .pathname;
const small = { domains: 2, subdomains: 3, assertions: 2, docTypes: 3, ideas: 2, seed: 7 };
let dir: string;
let spec: Spec;

beforeAll(async () => {
  spec = (await loadSpec(specFile)).spec;
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'docgen-corpus-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The template, except where `override` answers. */
function withOverride(
  override: (stage: string, text: string | undefined) => string | undefined,
): Provider {
  const template = createTemplateProvider();
  return {
    ...template,
    async complete(request, options) {
      const answer = override(request.task.stage, request.task.text);
      if (answer === undefined) return template.complete(request, options);
      return { text: answer, finishReason: 'stop', promptTokens: 3, completionTokens: 2 };
    },
  };
}

describe('generateCorpus', () => {
  it('writes dataset, manifest, report and stage artifacts', async () => {
    const result = await generateCorpus({
      spec,
      provider: createTemplateProvider(),
      outDir: dir,
      config: small,
    });
    expect(result.documents.length).toBeGreaterThan(30);
    const lines = (await readFile(join(dir, 'dataset.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(result.documents.length);
    const first = JSON.parse(lines[0] ?? '{}');
    expect(first).toMatchObject({ source: 'midspec-docgen', spec_id: 'cheese-affordability' });
    expect(first.spec_fingerprint).toMatch(/^sha256:/);
    for (const field of ['text', 'domain', 'doc_type', 'idea_id'])
      expect(first[field]).toBeTruthy();
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.counts.documents).toBe(result.documents.length);
    expect(manifest.spec.fingerprint).toBe(first.spec_fingerprint);
    expect(result.report.stages.map((stage) => stage.stage)).toEqual([
      'domains',
      'subdomains',
      'assertions',
      'doc-types',
      'ideas',
      'documents',
    ]);
    const documents = result.report.stages.at(-1);
    expect(documents?.requested).toBe(2 * 3 * 2 * 3 * 2);
  });

  it('drops what the consistency judge rejects, with its reason, and revises with critique', async () => {
    const provider = withOverride((stage, text) => {
      if (stage === 'revisions') return `${text}\n\nRevised.`;
      if (stage === 'consistency')
        return JSON.stringify(
          text?.startsWith('MEMO')
            ? { consistent: false, reason: 'memo contradicts CA1' }
            : { consistent: true, reason: '' },
        );
      return undefined;
    });
    const result = await generateCorpus({
      spec,
      provider,
      outDir: dir,
      config: { ...small, critique: true, consistencyJudge: true },
    });
    expect(result.report.drops.inconsistent).toBeGreaterThan(0);
    expect(
      result.documents.every((document) => document.revised && document.text.endsWith('Revised.')),
    ).toBe(true);
    expect(result.documents.some((document) => document.text.startsWith('MEMO'))).toBe(false);
    const drops = (await readFile(join(dir, 'drops.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(drops.filter((drop) => drop.reason === 'inconsistent-with-spec')[0]?.detail).toBe(
      'memo contradicts CA1',
    );
  });

  it('counts unparseable output, retries it, records it and carries on', async () => {
    let calls = 0;
    const provider = withOverride((stage) => {
      if (stage !== 'documents') return undefined;
      calls += 1;
      return calls % 4 === 0 ? undefined : 'too short';
    });
    const result = await generateCorpus({
      spec,
      provider,
      outDir: dir,
      config: { ...small, maxParseAttempts: 2 },
    });
    const documents = result.report.stages.find((stage) => stage.stage === 'documents');
    expect(documents?.parseFailures).toBeGreaterThan(0);
    expect(documents?.failed).toBeGreaterThan(0);
    expect(documents?.produced).toBeGreaterThan(0);
    expect(result.report.drops.failed).toBe(documents?.failed);
  });

  it('keeps finished items when a fatal error stops a stage, and a rerun completes', async () => {
    let documents = 0;
    const template = createTemplateProvider();
    const failing: Provider = {
      ...template,
      async complete(request, options) {
        if (request.task.stage === 'documents' && ++documents > 20)
          throw new ProviderError({
            provider: 'test',
            status: 401,
            message: 'bad key',
            retryable: false,
          });
        return template.complete(request, options);
      },
    };
    await expect(
      generateCorpus({ spec, provider: failing, outDir: dir, config: small }),
    ).rejects.toThrow('bad key');
    const kept = (await readFile(join(dir, 'stages/documents.jsonl'), 'utf8')).trim().split('\n');
    expect(kept.length).toBeGreaterThanOrEqual(20);
    const result = await generateCorpus({ spec, provider: template, outDir: dir, config: small });
    expect(result.report.stages.at(-1)?.produced).toBe(2 * 3 * 2 * 3 * 2);
  });

  it('refuses an output folder that holds a different run', async () => {
    await generateCorpus({
      spec,
      provider: createTemplateProvider(),
      outDir: dir,
      config: { ...small, domains: 1 },
    });
    await expect(
      generateCorpus({
        spec,
        provider: createTemplateProvider(),
        outDir: dir,
        config: { ...small, domains: 1, seed: 8 },
      }),
    ).rejects.toThrow(/different run \(seed: 7 → 8\)/);
  });

  it('rejects invalid options with every problem', async () => {
    await expect(
      generateCorpus({
        spec,
        provider: createTemplateProvider(),
        outDir: dir,
        config: { domains: 0, temperature: 9 },
      }),
    ).rejects.toThrow(/temperature: Too big[\s\S]*domains: Too small/);
  });
});
