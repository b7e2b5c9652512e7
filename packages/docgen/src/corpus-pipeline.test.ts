import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSpec } from '@midspec/spec';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateCorpus } from './corpus-pipeline.js';
import { createTemplateProvider } from './provider-template.js';

const specFile = new URL('../../../examples/specs/cheese-affordability.yaml', import.meta.url)
  .pathname;
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'docgen-corpus-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('generateCorpus with the template provider', () => {
  it('writes dataset, manifest, report and stage artifacts', async () => {
    const { spec } = await loadSpec(specFile);
    const result = await generateCorpus({
      spec,
      provider: createTemplateProvider(),
      outDir: dir,
      config: { domains: 2, subdomains: 3, assertions: 2, docTypes: 3, ideas: 2, seed: 7 },
    });
    expect(result.documents.length).toBeGreaterThan(30);
    const lines = (await readFile(join(dir, 'dataset.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(result.documents.length);
    const first = JSON.parse(lines[0] ?? '{}');
    expect(first).toMatchObject({ source: 'midspec-docgen', spec_id: 'cheese-affordability' });
    expect(first.spec_fingerprint).toMatch(/^sha256:/);
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.counts.documents).toBe(result.documents.length);
    expect(result.report.stages.map((stage) => stage.stage)).toEqual([
      'domains',
      'subdomains',
      'assertions',
      'doc-types',
      'ideas',
      'documents',
    ]);
    console.log(result.documents[0]?.text);
    console.log(result.documents[5]?.text);
  });
});
