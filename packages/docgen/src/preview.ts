import { renderMarkdown, renderSpec, type Spec } from '@midspec/spec';
import {
  type CorpusConfigInput,
  CorpusConfigSchema,
  type DemosConfigInput,
  DemosConfigSchema,
  parseConfig,
} from './corpus-config.js';
import { costOf, DEFAULT_PRICES, type PriceTable, priceFor } from './price-table.js';
import { buildMessages } from './prompts.js';
import type { CallOptions, StageName } from './provider.js';
import type { TokenCounter } from './token-counter.js';

export interface PreviewOptions extends CallOptions {
  spec: Spec;
  variables?: Record<string, string>;
  provider: { id: string; model: string };
  prices?: PriceTable;
  /** A real tokenizer; without one, tokens are estimated at 4 characters each (and say so). */
  tokenCounter?: TokenCounter;
  /** Expected completion tokens per document or response; default 1500 (the published corpora average 1.5–3k). */
  documentTokens?: number;
  /** Expected completion tokens per list item; default 60. */
  itemTokens?: number;
}

export interface PreviewLevel {
  stage: StageName;
  requests: number;
  /** Items this level yields if every request succeeds. */
  items: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number | undefined;
}

export interface Preview {
  levels: PreviewLevel[];
  promptTokens: number;
  completionTokens: number;
  costUsd: number | undefined;
  tokenizer: string;
}

interface Level {
  stage: StageName;
  requests: number;
  items: number;
  perItemOutput: number;
  count?: number;
}

/** Projected requests, items, tokens and cost per level of the corpus pipeline; spends nothing. */
export async function previewCorpus(
  options: PreviewOptions & { config?: CorpusConfigInput },
): Promise<Preview> {
  const c = parseConfig(CorpusConfigSchema, options.config);
  const doc = options.documentTokens ?? 1500;
  const item = options.itemTokens ?? 60;
  const subdomains = c.domains * c.subdomains;
  const ideaRequests = subdomains * c.docTypes * (c.mode === 'values' ? c.assertions : 1);
  const ideas = ideaRequests * c.ideas;
  const documents = Math.min(
    ideas * c.documentsPerIdea,
    c.maxDocuments ?? Number.POSITIVE_INFINITY,
  );
  const levels: Level[] = [
    { stage: 'domains', requests: 1, items: c.domains, perItemOutput: item, count: c.domains },
    {
      stage: 'subdomains',
      requests: c.domains,
      items: subdomains,
      perItemOutput: item,
      count: c.subdomains,
    },
    ...(c.mode === 'values'
      ? [
          {
            stage: 'assertions' as const,
            requests: subdomains,
            items: subdomains * c.assertions,
            perItemOutput: item,
            count: c.assertions,
          },
        ]
      : []),
    {
      stage: 'doc-types',
      requests: subdomains,
      items: subdomains * c.docTypes,
      perItemOutput: item,
      count: c.docTypes,
    },
    { stage: 'ideas', requests: ideaRequests, items: ideas, perItemOutput: item, count: c.ideas },
    { stage: 'documents', requests: documents, items: documents, perItemOutput: doc },
    ...(c.critique
      ? [{ stage: 'revisions' as const, requests: documents, items: documents, perItemOutput: doc }]
      : []),
    ...(c.consistencyJudge
      ? [
          {
            stage: 'consistency' as const,
            requests: documents,
            items: documents,
            perItemOutput: 40,
          },
        ]
      : []),
  ];
  return project(options, levels, doc);
}

/** The same projection for the demonstrations pipeline. */
export async function previewDemos(
  options: PreviewOptions & { config?: DemosConfigInput },
): Promise<Preview> {
  const c = parseConfig(DemosConfigSchema, options.config);
  const item = options.itemTokens ?? 60;
  const answer = options.documentTokens ?? 400;
  const prompts = Math.min(c.domains * c.promptsPerDomain, c.maxDemos ?? Number.POSITIVE_INFINITY);
  return project(
    options,
    [
      {
        stage: 'demo-domains',
        requests: 1,
        items: c.domains,
        perItemOutput: item,
        count: c.domains,
      },
      {
        stage: 'prompts',
        requests: c.domains,
        items: c.domains * c.promptsPerDomain,
        perItemOutput: item,
        count: c.promptsPerDomain,
      },
      { stage: 'responses', requests: prompts, items: prompts, perItemOutput: answer },
      ...(c.judge
        ? [{ stage: 'demo-judge' as const, requests: prompts, items: prompts, perItemOutput: 40 }]
        : []),
    ],
    answer,
  );
}

async function project(
  options: PreviewOptions,
  levels: Level[],
  textTokens: number,
): Promise<Preview> {
  const spec = renderSpec(options.spec, options.variables ?? {});
  const markdown = renderMarkdown(spec);
  const filler = 'x'.repeat(Math.max(0, textTokens * 4));
  // One representative prompt per level, counted with the tokenizer.
  const prompts = levels.map((level) =>
    buildMessages(
      {
        stage: level.stage,
        spec,
        count: level.count,
        domain: { name: 'a domain', description: 'a description' },
        subdomain: { name: 'a subdomain', description: 'a description' },
        docType: { name: 'a document type', description: 'a description' },
        idea: { name: 'an idea', description: 'a description of the idea' },
        text: level.stage === 'revisions' || level.stage === 'consistency' ? filler : undefined,
        prompt: 'a user message',
      },
      markdown,
    )
      .map((message) => message.content)
      .join('\n'),
  );
  const counter = options.tokenCounter;
  const counts = counter
    ? await counter.count(prompts, options)
    : prompts.map((prompt) => Math.ceil(prompt.length / 4));
  const price = priceFor(
    options.prices ?? DEFAULT_PRICES,
    options.provider.id,
    options.provider.model,
  );
  const out = levels.map((level, index): PreviewLevel => {
    const promptTokens = level.requests * (counts[index] ?? 0);
    const completionTokens = level.count
      ? level.requests * level.count * level.perItemOutput
      : level.requests * level.perItemOutput;
    return {
      stage: level.stage,
      requests: level.requests,
      items: level.items,
      promptTokens,
      completionTokens,
      costUsd: costOf(price, promptTokens, completionTokens),
    };
  });
  const promptTokens = out.reduce((total, level) => total + level.promptTokens, 0);
  const completionTokens = out.reduce((total, level) => total + level.completionTokens, 0);
  return {
    levels: out,
    promptTokens,
    completionTokens,
    costUsd: costOf(price, promptTokens, completionTokens),
    tokenizer:
      counter?.name ?? 'estimate (4 characters per token; pass a tokenizer for real counts)',
  };
}

export function formatPreview(preview: Preview): string {
  const rows = [
    ['level', 'requests', 'items', 'prompt tokens', 'completion tokens', 'cost $'],
    ...preview.levels.map((level) => [
      level.stage,
      String(level.requests),
      String(level.items),
      String(level.promptTokens),
      String(level.completionTokens),
      level.costUsd === undefined ? '?' : level.costUsd.toFixed(2),
    ]),
  ];
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  const lines = rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  lines.push(
    `total: ${preview.promptTokens} prompt + ${preview.completionTokens} completion tokens, cost ${preview.costUsd === undefined ? 'unknown (no price for this model: pass --prices FILE)' : `$${preview.costUsd.toFixed(2)}`}`,
    `tokenizer: ${preview.tokenizer}`,
  );
  return lines.join('\n');
}
