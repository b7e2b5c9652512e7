import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { lintSpec, lintSpecFile } from './lint-spec.js';
import { formatLintSummary, summarizeLint } from './lint-summary.js';
import { parseSpec } from './load-spec.js';

// The README's examples are run here, so the documentation cannot drift from the code.
const README = fileURLToPath(new URL('../README.md', import.meta.url));

async function codeBlocks(language: string): Promise<string[]> {
  const text = await readFile(README, 'utf8');
  const pattern = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\\n\`\`\``, 'g');
  return [...text.matchAll(pattern)].map((match) => match[1] ?? '');
}

describe('README examples', () => {
  it('the YAML spec is valid and lints clean', async () => {
    const [yaml] = await codeBlocks('yaml');
    const { spec, locate } = parseSpec(yaml ?? '', { format: 'yaml' });
    expect(lintSpec(spec, { locate })).toEqual([]);
  });

  it('the Markdown snippets parse', async () => {
    const blocks = await codeBlocks('markdown');
    expect(blocks).toHaveLength(2);
    const [ruleList, headings] = blocks.map(
      (block) => parseSpec(block, { format: 'markdown' }).spec,
    );
    expect(ruleList?.principles[0]).toMatchObject({
      id: 'SP1',
      priority: 1,
      values: ['human-oversight'],
    });
    expect(headings?.principles[0]).toMatchObject({
      id: 'comply_with_laws',
      authority: 'platform',
    });
  });

  it('the lint session prints what the README shows', async () => {
    const [session = ''] = await codeBlocks('console');
    const source = /<<'EOF'\n([\s\S]*?)\nEOF/.exec(session)?.[1] ?? '';
    const lines = session.split('\n');
    const summary = lines.find((line) => /^support\.md: \d+ principles/.test(line));
    const shown = lines.filter((line) => /^support\.md:\d/.test(line)).join('\n');
    const dir = await mkdtemp(path.join(tmpdir(), 'midspec-readme-'));
    try {
      const file = path.join(dir, 'support.md');
      await writeFile(file, `${source}\n`);
      const { diagnostics, spec } = await lintSpecFile(file, { displayName: 'support.md' });
      expect(spec && `support.md: ${formatLintSummary(summarizeLint(spec, diagnostics))}`).toBe(
        summary,
      );
      const printed = diagnostics
        .map((d) => `support.md:${d.line}:${d.column} ${d.severity} ${d.code} ${d.message}`)
        .join('\n');
      expect(printed).toBe(shown);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
