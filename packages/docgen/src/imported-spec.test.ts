// docgen from a spec imported as published (prose Markdown, no front matter): the offline template
// provider runs it end to end, and the decomposition prompts carry the whole spec text — framing
// sections, the ranked list, every principle — as the published pipeline gives its prompts the spec.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSpec } from '@midspec/spec';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateCorpus } from './corpus-pipeline.js';
import type { CompletionRequest, Provider } from './provider.js';
import { createTemplateProvider } from './provider-template.js';

const fixture = (name: string) => new URL(`../../spec/fixtures/${name}`, import.meta.url).pathname;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'docgen-imported-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('docgen from an imported prose spec', () => {
  it('generates documents, and every decomposition prompt holds the whole spec', async () => {
    const { spec } = await loadSpec(fixture('constitution.md'));
    const template = createTemplateProvider();
    const requests: CompletionRequest[] = [];
    const provider: Provider = {
      ...template,
      complete(request, options) {
        requests.push(request);
        return template.complete(request, options);
      },
    };
    const result = await generateCorpus({
      spec,
      provider,
      outDir: dir,
      config: { domains: 2, subdomains: 2, assertions: 2, docTypes: 2, ideas: 1, seed: 3 },
    });
    expect(result.documents.length).toBeGreaterThan(0);
    const decomposition = requests.filter((request) =>
      ['domains', 'subdomains', 'assertions'].includes(request.task.stage),
    );
    expect(decomposition.length).toBeGreaterThan(0);
    for (const request of decomposition) {
      const prompt = request.messages.map((message) => message.content).join('\n');
      expect(prompt).toContain('1. Broadly safe\n2. Broadly ethical');
      expect(prompt).toContain('**Definitions**');
      for (const principle of spec.principles) expect(prompt).toContain(principle.statement);
    }
  });
});
