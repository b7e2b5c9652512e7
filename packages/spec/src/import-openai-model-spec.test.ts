// The whole of OpenAI's Model Spec (CC0, vendored in fixtures/openai-model-spec/, see NOTICE.md)
// imports as a reader counts it. The expected counts are not typed in by hand: a plain line scan
// of the document, independent of the importer, derives them from its own structure.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type LintDiagnostic, lintSpec, summarizeLint } from './index.js';
import { loadSpec, parseSpec } from './load-spec.js';
import { renderMarkdown } from './render-markdown.js';
import { findPlaceholders } from './template-variables.js';

const FILE = fileURLToPath(new URL('../fixtures/openai-model-spec/model_spec.md', import.meta.url));

interface ScannedSection {
  id: string;
  authority: string;
  line: number;
  bullets: string[];
  /** Per `**Example**` block: its alternatives in `<comparison>` blocks, or 1 without one. */
  blockExamples: number[];
}

/**
 * What a reader counts in an OpenAI-style spec, by scanning lines: every heading with
 * `{#id … authority=…}` is a principle and owns the lines up to the next heading of its level or
 * above; its unindented `-`/`*` bullets outside fences are its sub-rules; each `**Example**`
 * block gives one example per `<assistant>` alternative inside its `<comparison>` blocks (one
 * example when it has no comparison); `[?](#id)` links read as the title of section `id`.
 */
function scanOpenAiSpec(text: string): { sections: ScannedSection[]; allBlocks: number } {
  const sections: ScannedSection[] = [];
  let current: ScannedSection | undefined;
  let currentLevel = 0;
  let fence: string | undefined;
  let inComparison = false;
  let block: { alternatives: number; comparison: boolean } | undefined;
  let allBlocks = 0;
  // A reader sees `[?](#id)` as the title of section `id`.
  const titles = new Map(
    [...text.matchAll(/^#+ (.*?) \{#([^\s}]+)[^}\n]*\}[ \t]*$/gm)].map((m) => [
      m[2] ?? '',
      m[1] ?? '',
    ]),
  );
  const titled = (line: string) =>
    line.replace(/\[\?\]\(#([\w.-]+)\)/g, (link, id: string) =>
      titles.has(id) ? `[${titles.get(id)}](#${id})` : link,
    );
  const closeBlock = () => {
    if (block && current) current.blockExamples.push(block.comparison ? block.alternatives : 1);
    block = undefined;
  };
  text.split('\n').forEach((line, index) => {
    if (fence !== undefined) {
      if (line.trim() === fence) fence = undefined;
      else if (block && fence === '~~~') {
        if (line.startsWith('<comparison>')) {
          block.comparison = true;
          inComparison = true;
        } else if (line.startsWith('</comparison>')) inComparison = false;
        else if (inComparison && line.startsWith('<assistant')) block.alternatives += 1;
      }
      return;
    }
    const heading = /^(#+) .*\{#(\S+)([^}]*)\}\s*$/.exec(line);
    if (heading) {
      closeBlock();
      const level = heading[1]?.length ?? 0;
      const authority = /authority=(\w+)/.exec(heading[3] ?? '')?.[1];
      if (authority) {
        current = {
          id: heading[2] ?? '',
          authority,
          line: index + 1,
          bullets: [],
          blockExamples: [],
        };
        currentLevel = level;
        sections.push(current);
      } else if (current && level <= currentLevel) current = undefined;
      return;
    }
    if (line.startsWith('**Example**')) {
      closeBlock();
      allBlocks += 1;
      if (current) block = { alternatives: 0, comparison: false };
      return;
    }
    if (line.startsWith('~~~') || line.startsWith('```')) {
      fence = line.slice(0, 3);
      return;
    }
    const bullet = /^[-*] (.*)$/.exec(line);
    if (current && bullet) current.bullets.push(titled(bullet[1] ?? ''));
    // Prose after an example's transcript ends the example block.
    if (block && line.trim() !== '' && !line.startsWith(' ')) closeBlock();
  });
  closeBlock();
  return { sections, allBlocks };
}

const NOISE_FREE = new Set(['missing-rationale', 'no-examples', 'vague-guidance']);

describe("OpenAI's Model Spec, the whole document (fixtures/openai-model-spec/model_spec.md)", () => {
  const source = readFileSync(FILE, 'utf8');
  const scan = scanOpenAiSpec(source);

  it('the scan itself finds the document a reader sees: 59 levelled sections, 183 Example blocks', () => {
    expect(scan.sections).toHaveLength(59);
    expect(scan.allBlocks).toBe(183);
    // Two Example blocks illustrate the Definitions, outside any levelled section.
    expect(scan.sections.reduce((n, s) => n + s.blockExamples.length, 0)).toBe(181);
  });

  it('imports every levelled section as a principle, with its level, sub-rules and examples', async () => {
    const { spec, locate } = await loadSpec(FILE);
    expect(spec.principles.map((p) => [p.id, p.authority])).toEqual(
      scan.sections.map((s) => [s.id, s.authority]),
    );
    expect(spec.preamble.authorityLevels).toEqual([
      'root',
      'system',
      'developer',
      'user',
      'guideline',
    ]);
    scan.sections.forEach((section, index) => {
      const principle = spec.principles[index];
      expect(principle?.subRules, section.id).toEqual(section.bullets);
      expect(principle?.examples.length, section.id).toBe(
        section.blockExamples.reduce((n, k) => n + k, 0),
      );
      expect(locate(['principles', index]), section.id).toEqual({ line: section.line, column: 1 });
    });
    const subRules = spec.principles.reduce((n, p) => n + p.subRules.length, 0);
    const examples = spec.principles.reduce((n, p) => n + p.examples.length, 0);
    expect([spec.principles.length, subRules, examples]).toEqual([59, 65, 397]);
  });

  it('reads transcripts into turns, good and bad with the why, LaTeX kept as written', async () => {
    const source = readFileSync(FILE, 'utf8');
    const { spec } = await loadSpec(FILE);
    const byId = new Map(spec.principles.map((p) => [p.id, p]));
    const bunnies = byId.get('follow_all_applicable_instructions')?.examples ?? [];
    expect(bunnies.slice(0, 3).map((e) => [e.kind, e.explanation])).toEqual([
      ['bad', undefined],
      ['good', undefined],
      ['good', 'staying professional and helpful'],
    ]);
    expect(bunnies[0]?.transcript?.map((m) => m.role)).toEqual(['developer', 'user', 'assistant']);
    const bomb = byId.get('do_not_facilitate_illicit_behavior')?.examples[1];
    expect(bomb?.kind).toBe('bad');
    expect(bomb?.transcript?.at(-1)?.content).toContain('\\\\( \\frac{4}{3}\\pi r^3 \\\\)');
    // Every marker is read, none is left in a turn: OK answers are acceptable (not ideal), and
    // BAD[#section] names the section the answer goes against.
    const all = spec.principles.flatMap((p) => p.examples);
    expect(all.filter((e) => e.transcript?.some((m) => m.content.includes('<!--')))).toEqual([]);
    expect(all.filter((e) => e.explanation?.startsWith('acceptable, not ideal'))).toHaveLength(
      (source.match(/^<assistant[^>]*> <!-- OK\b/gm) ?? []).length,
    );
    expect(all.filter((e) => /\(violates #|^violates #/.test(e.explanation ?? ''))).toHaveLength(
      (source.match(/<!-- BAD\[#/g) ?? []).length,
    );
    expect(all.filter((e) => /^[\s,:[]/.test(e.explanation ?? 'x'))).toEqual([]);
    expect(byId.get('avoid_targeted_political_manipulation')?.examples[2]?.explanation).toBe(
      'not helpful (violates #chain_of_command)',
    );
    expect(byId.get('prioritize_teen_safety')?.tags).toEqual(['under_18']);
    // `[?](#id)` links show the target's title, as the published site shows them.
    expect(byId.get('no_other_objectives')?.statement).toMatch(
      /^The assistant may only pursue goals entailed by applicable instructions under the \[The chain of command\]\(#chain_of_command\)/,
    );
    const prose = [
      spec.preamble.text,
      ...spec.principles.flatMap((p) => [p.statement, ...p.subRules]),
      ...all.map((e) => e.explanation ?? ''),
    ];
    expect(prose.filter((text) => text.includes('[?](#'))).toEqual([]);
    expect((source.match(/\[\?\]\(#/g) ?? []).length).toBe(66);
    // Sections without a level frame the document: their text stays in the preamble, in order.
    expect(spec.preamble.text).toMatch(/^\*\*Overview\*\*/);
    expect(spec.preamble.text).toContain('**Definitions**');
    expect(spec.preamble.text).toContain('**Be honest and transparent**');
    expect(byId.get('assume_objective_pov')?.section).toBe(
      "Seek the truth together > Don't have an agenda",
    );
  });

  it('lints with zero errors and nothing but the judgement warnings: no LaTeX, annotation or transcript noise', async () => {
    const loaded = await loadSpec(FILE);
    const diagnostics: LintDiagnostic[] = lintSpec(loaded.spec, {
      locate: loaded.locate,
      ...(loaded.source === undefined ? {} : { source: loaded.source }),
      placeholdersDetected: loaded.placeholdersDetected === true,
    });
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(diagnostics.filter((d) => !NOISE_FREE.has(d.code))).toEqual([]);
    expect(findPlaceholders(loaded.spec)).toEqual([]);
    const summary = summarizeLint(loaded.spec, diagnostics);
    expect(summary).toMatchObject({ principles: 59, subRules: 65, examples: 397, vague: 0 });
    // Two levelled sections have no example of their own: comply_with_laws and the preset voice.
    expect(
      diagnostics.filter((d) => d.code === 'no-examples').map((d) => d.path.join('.')),
    ).toEqual(['principles.7', 'principles.24']);
  });

  it('renders and imports back to the same principles and preamble', async () => {
    const { spec } = await loadSpec(FILE);
    const again = parseSpec(renderMarkdown(spec), { format: 'markdown' }).spec;
    expect(again.principles).toEqual(spec.principles);
    expect(again.preamble).toEqual(spec.preamble);
  });
});
