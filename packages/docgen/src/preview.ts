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
import type { CallOptions, NamedItem, ProviderMessage, StageName } from './provider.js';
import type { TokenCounter } from './token-counter.js';

export interface PreviewOptions extends CallOptions {
  spec: Spec;
  variables?: Record<string, string>;
  provider: { id: string; model: string };
  prices?: PriceTable;
  /** A real tokenizer; without one (or a request counter), tokens are estimated at 4 characters each, and the preview says so. */
  tokenCounter?: TokenCounter;
  /** Counts whole requests as the provider bills them (Anthropic's `messages.countTokens`). */
  requestCounter?: RequestCounter;
  /** Expected completion tokens per document or response; default 1500 (the published corpora average 1.5–3k). */
  documentTokens?: number;
  /** Expected completion tokens per list item; default 60. */
  itemTokens?: number;
  /** The text stages go through the provider's batch API (`--batch`): the batch discount applies. */
  batch?: boolean;
}

/** Counts the input tokens of whole requests (system and user turns together). */
export interface RequestCounter {
  readonly name: string;
  count(requests: ProviderMessage[][], options?: CallOptions): Promise<number[]>;
}

export interface PreviewLevel {
  stage: StageName;
  requests: number;
  /** Items this level yields if every request succeeds. */
  items: number;
  /** Sent through the batch API. */
  batch: boolean;
  promptTokens: number;
  /** Prompt tokens expected from the provider's prompt cache (the spec prefix), part of promptTokens. */
  cacheReadTokens: number;
  /** Prompt tokens expected to be written to the cache (Anthropic), part of promptTokens. */
  cacheWriteTokens: number;
  completionTokens: number;
  costUsd: number | undefined;
}

export interface Preview {
  levels: PreviewLevel[];
  promptTokens: number;
  completionTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number | undefined;
  /** The same tokens at list price: no batch discount, no cache. */
  listCostUsd: number | undefined;
  batch: boolean;
  tokenizer: string;
  /** How the prompt cache was accounted for. */
  caching: string;
}

type Slot = 'domain' | 'subdomain' | 'assertion' | 'docType' | 'idea';

interface Level {
  stage: StageName;
  requests: number;
  items: number;
  perItemOutput: number;
  count?: number;
  /** The items a request of this level names (as the pipeline fills its task). */
  slots: Slot[];
  /** A text stage: the batch API carries it under `--batch`. */
  text?: boolean;
  /** Carries a whole document (revisions, the consistency judge). */
  withText?: boolean;
}

/** Projected requests, items, tokens and cost per level of the corpus pipeline; spends nothing. */
export async function previewCorpus(
  options: PreviewOptions & { config?: CorpusConfigInput },
): Promise<Preview> {
  const c = parseConfig(CorpusConfigSchema, options.config);
  const doc = options.documentTokens ?? 1500;
  const item = options.itemTokens ?? 60;
  const values = c.mode === 'values';
  const subdomains = c.domains * c.subdomains;
  const ideaRequests = subdomains * c.docTypes * (values ? c.assertions : 1);
  const ideas = ideaRequests * c.ideas;
  const documents = Math.min(
    ideas * c.documentsPerIdea,
    c.maxDocuments ?? Number.POSITIVE_INFINITY,
  );
  const slot: Slot[] = values
    ? ['domain', 'subdomain', 'assertion', 'docType']
    : ['domain', 'subdomain', 'docType'];
  const levels: Level[] = [
    {
      stage: 'domains',
      requests: 1,
      items: c.domains,
      perItemOutput: item,
      count: c.domains,
      slots: [],
    },
    {
      stage: 'subdomains',
      requests: c.domains,
      items: subdomains,
      perItemOutput: item,
      count: c.subdomains,
      slots: ['domain'],
    },
    ...(values
      ? [
          {
            stage: 'assertions' as const,
            requests: subdomains,
            items: subdomains * c.assertions,
            perItemOutput: item,
            count: c.assertions,
            slots: ['domain', 'subdomain'] as Slot[],
          },
        ]
      : []),
    {
      stage: 'doc-types',
      requests: subdomains,
      items: subdomains * c.docTypes,
      perItemOutput: item,
      count: c.docTypes,
      slots: ['domain', 'subdomain'],
    },
    {
      stage: 'ideas',
      requests: ideaRequests,
      items: ideas,
      perItemOutput: item,
      count: c.ideas,
      slots: slot,
    },
    {
      stage: 'documents',
      requests: documents,
      items: documents,
      perItemOutput: doc,
      slots: [...slot, 'idea'],
      text: true,
    },
    ...(c.critique
      ? [
          {
            stage: 'revisions' as const,
            requests: documents,
            items: documents,
            perItemOutput: doc,
            slots: [...slot, 'idea'] as Slot[],
            text: true,
            withText: true,
          },
        ]
      : []),
    ...(c.consistencyJudge
      ? [
          {
            stage: 'consistency' as const,
            requests: documents,
            items: documents,
            perItemOutput: 40,
            slots: [] as Slot[],
            text: true,
            withText: true,
          },
        ]
      : []),
  ];
  return project(options, levels, doc, item);
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
        slots: [],
      },
      {
        stage: 'prompts',
        requests: c.domains,
        items: c.domains * c.promptsPerDomain,
        perItemOutput: item,
        count: c.promptsPerDomain,
        slots: ['domain'],
      },
      {
        stage: 'responses',
        requests: prompts,
        items: prompts,
        perItemOutput: answer,
        slots: [],
        text: true,
      },
      ...(c.judge
        ? [
            {
              stage: 'demo-judge' as const,
              requests: prompts,
              items: prompts,
              perItemOutput: 40,
              slots: [] as Slot[],
              text: true,
              withText: true,
            },
          ]
        : []),
    ],
    answer,
    item,
  );
}

// Stand-ins for what earlier levels produce, sized like the model's output (an item's name and
// description take about `itemTokens` tokens; a document about `documentTokens`), so the prompts
// counted are as long as the ones the pipeline will send.
const PROSE =
  'The assistant explains the reason behind the rule, gives a concrete case from everyday work, ' +
  'and says what it would do when two of the principles pull in different directions. ';

function prose(tokens: number): string {
  const characters = Math.max(0, Math.round(tokens * 4));
  return PROSE.repeat(Math.ceil(characters / PROSE.length))
    .slice(0, characters)
    .trim();
}

function standIn(kind: string, itemTokens: number): NamedItem {
  return {
    name: `A ${kind} named in a few words`,
    description: prose(Math.max(10, itemTokens - 10)),
  };
}

/** The minimum prefix the providers cache (Anthropic's Sonnet/Opus minimum; OpenAI's too). */
const MIN_CACHED_PREFIX = 1024;

async function project(
  options: PreviewOptions,
  levels: Level[],
  textTokens: number,
  itemTokens: number,
): Promise<Preview> {
  const spec = renderSpec(options.spec, options.variables ?? {});
  const markdown = renderMarkdown(spec);
  const items: Record<Slot, NamedItem> = {
    domain: standIn('domain', itemTokens),
    subdomain: standIn('subdomain', itemTokens),
    assertion: standIn('assertion', itemTokens),
    docType: standIn('document type', itemTokens),
    idea: standIn('document idea', itemTokens),
  };
  const document = prose(textTokens);
  // One representative request per level, as the pipeline builds it.
  const requests = levels.map((level) =>
    buildMessages(
      {
        stage: level.stage,
        spec,
        count: level.count,
        ...Object.fromEntries(level.slots.map((slot) => [slot, items[slot]])),
        text: level.withText ? document : undefined,
        prompt: level.stage === 'responses' || level.stage === 'demo-judge' ? prose(40) : undefined,
      },
      markdown,
    ),
  );
  const system = requests[0]?.find((message) => message.role === 'system');
  let counts: number[];
  let systemTokens: number;
  let tokenizer: string;
  if (options.requestCounter) {
    const probe: ProviderMessage = { role: 'user', content: '.' };
    const counted = await options.requestCounter.count(
      [...requests, ...(system ? [[system, probe], [probe]] : [])],
      options,
    );
    counts = counted.slice(0, requests.length);
    systemTokens = system
      ? (counted[requests.length] ?? 0) - (counted[requests.length + 1] ?? 0)
      : 0;
    tokenizer = options.requestCounter.name;
  } else {
    const texts = requests.map((messages) => messages.map((message) => message.content).join('\n'));
    const all = [...texts, system?.content ?? ''];
    const counted = options.tokenCounter
      ? await options.tokenCounter.count(all, options)
      : all.map((text) => Math.ceil(text.length / 4));
    counts = counted.slice(0, texts.length);
    systemTokens = counted[texts.length] ?? 0;
    tokenizer =
      options.tokenCounter?.name ??
      'estimate, not a count (4 characters per token; pass --tokenizer FILE or --provider-token-count for real counts)';
  }
  const cache = cacheModel(options.provider.id, systemTokens);
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
    const writes = level.requests > 0 ? cache.writePerLevel : 0;
    const cacheReadTokens = Math.max(0, level.requests - 1) * cache.readPerRequest;
    const batch = Boolean(options.batch && level.text);
    return {
      stage: level.stage,
      requests: level.requests,
      items: level.items,
      batch,
      promptTokens,
      cacheReadTokens,
      cacheWriteTokens: writes,
      completionTokens,
      costUsd: costOf(price, {
        promptTokens,
        completionTokens,
        cacheReadTokens,
        cacheWriteTokens: writes,
        batch,
      }),
    };
  });
  const sum = (pick: (level: PreviewLevel) => number) =>
    out.reduce((total, level) => total + pick(level), 0);
  const promptTokens = sum((level) => level.promptTokens);
  const completionTokens = sum((level) => level.completionTokens);
  return {
    levels: out,
    promptTokens,
    completionTokens,
    cacheReadTokens: sum((level) => level.cacheReadTokens),
    cacheWriteTokens: sum((level) => level.cacheWriteTokens),
    costUsd: price ? sum((level) => level.costUsd ?? 0) : undefined,
    listCostUsd: costOf(price, promptTokens, completionTokens),
    batch: Boolean(options.batch),
    tokenizer,
    caching: cache.description,
  };
}

/**
 * The spec is the system prompt of every request: the prefix both providers cache. Anthropic caches
 * it where we mark it (one write per level, then reads at a tenth of the price, within the cache's
 * five minutes; batches hit the cache on a best-effort basis); OpenAI caches prefixes of 1,024+
 * tokens by itself, in steps of 128, with no write charge.
 */
function cacheModel(provider: string, systemTokens: number) {
  const none = (why: string) => ({ readPerRequest: 0, writePerLevel: 0, description: why });
  if (provider !== 'anthropic' && provider !== 'openai')
    return none(`none (${provider} is not billed per token)`);
  if (systemTokens < MIN_CACHED_PREFIX)
    return none(
      `none: the spec prefix is ${systemTokens} tokens, under the ${MIN_CACHED_PREFIX}-token minimum the providers cache`,
    );
  if (provider === 'anthropic')
    return {
      readPerRequest: systemTokens,
      writePerLevel: systemTokens,
      description: `expected: the spec prefix (${systemTokens} tokens) marked with cache_control, written once per level and read by every other request`,
    };
  const cached = Math.floor(systemTokens / 128) * 128;
  return {
    readPerRequest: cached,
    writePerLevel: 0,
    description: `expected: OpenAI's automatic prompt caching reuses ${cached} tokens of the spec prefix on every request after a level's first`,
  };
}

export function formatPreview(preview: Preview): string {
  const rows = [
    [
      'level',
      'requests',
      'items',
      'prompt tokens',
      'cache reads',
      'completion tokens',
      'batch',
      'cost $',
    ],
    ...preview.levels.map((level) => [
      level.stage,
      String(level.requests),
      String(level.items),
      String(level.promptTokens),
      String(level.cacheReadTokens),
      String(level.completionTokens),
      level.batch ? 'yes' : '',
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
  const batched = preview.levels.filter((level) => level.batch).map((level) => level.stage);
  lines.push(
    `total: ${preview.promptTokens} prompt (${preview.cacheReadTokens} cache reads, ${preview.cacheWriteTokens} cache writes) + ${preview.completionTokens} completion tokens, cost ${
      preview.costUsd === undefined
        ? 'unknown (no price for this model: pass --prices FILE)'
        : `$${preview.costUsd.toFixed(2)} (list price without batch discount or cache: $${(preview.listCostUsd ?? 0).toFixed(2)})`
    }`,
    `batch: ${batched.length > 0 ? `${batched.join(', ')} through the batch API at the batch discount (50 % unless the price table says otherwise)` : 'not used (pass --batch for the text stages)'}`,
    `prompt cache: ${preview.caching}`,
    `tokenizer: ${preview.tokenizer}`,
  );
  return lines.join('\n');
}
