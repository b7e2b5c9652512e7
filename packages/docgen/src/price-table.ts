import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { DocgenError } from './docgen-error.js';

export const PriceSchema = z
  .object({
    /** US dollars per million prompt tokens. */
    inputPerMillion: z.number().min(0),
    /** US dollars per million completion tokens. */
    outputPerMillion: z.number().min(0),
    /** Batch APIs discount; default 0.5 where a batch API is used. */
    batchDiscount: z.number().min(0).max(1).optional(),
    /** US dollars per million prompt tokens read from the provider's prompt cache. */
    cachedInputPerMillion: z.number().min(0).optional(),
    /** US dollars per million prompt tokens written to the cache (Anthropic: 1.25× input). */
    cacheWritePerMillion: z.number().min(0).optional(),
  })
  .strict();
export type Price = z.output<typeof PriceSchema>;
/** Keyed by `provider/model`, or by `model` alone. */
export const PriceTableSchema = z.record(z.string(), PriceSchema);
export type PriceTable = z.output<typeof PriceTableSchema>;

/**
 * List prices as published when this was written; pass your own table (`--prices FILE`) for
 * anything else or when they change. Local providers (template, worker) cost nothing.
 */
export const DEFAULT_PRICES: PriceTable = {
  'template/template': { inputPerMillion: 0, outputPerMillion: 0 },
  'openai/gpt-4.1': { inputPerMillion: 2, cachedInputPerMillion: 0.5, outputPerMillion: 8 },
  'openai/gpt-4.1-mini': {
    inputPerMillion: 0.4,
    cachedInputPerMillion: 0.1,
    outputPerMillion: 1.6,
  },
  'openai/gpt-4o-mini': {
    inputPerMillion: 0.15,
    cachedInputPerMillion: 0.075,
    outputPerMillion: 0.6,
  },
  'anthropic/claude-sonnet-4-5': {
    inputPerMillion: 3,
    cachedInputPerMillion: 0.3,
    cacheWritePerMillion: 3.75,
    outputPerMillion: 15,
  },
  'anthropic/claude-haiku-4-5': {
    inputPerMillion: 1,
    cachedInputPerMillion: 0.1,
    cacheWritePerMillion: 1.25,
    outputPerMillion: 5,
  },
};

export function priceFor(table: PriceTable, provider: string, model: string): Price | undefined {
  if (provider === 'template' || provider === 'worker')
    return table[`${provider}/${model}`] ?? { inputPerMillion: 0, outputPerMillion: 0 };
  return table[`${provider}/${model}`] ?? table[model];
}

/** Token counts to price; cache reads and writes are part of `promptTokens`. */
export interface TokenBill {
  promptTokens: number;
  completionTokens: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  /** Sent through a batch API (the price's `batchDiscount`, default 50 %, applies). */
  batch?: boolean;
}

/**
 * Dollars for a bill: uncached prompt tokens at the input price, cache reads and writes at their
 * own prices (the input price where the table has none), completions at the output price, all
 * discounted under a batch API.
 */
export function costOf(
  price: Price | undefined,
  promptTokensOrBill: number | TokenBill,
  completionTokens = 0,
) {
  if (!price) return undefined;
  const bill =
    typeof promptTokensOrBill === 'number'
      ? { promptTokens: promptTokensOrBill, completionTokens }
      : promptTokensOrBill;
  const read = bill.cacheReadTokens ?? 0;
  const write = bill.cacheWriteTokens ?? 0;
  const plain = Math.max(0, bill.promptTokens - read - write);
  const dollars =
    plain * price.inputPerMillion +
    read * (price.cachedInputPerMillion ?? price.inputPerMillion) +
    write * (price.cacheWritePerMillion ?? price.inputPerMillion) +
    bill.completionTokens * price.outputPerMillion;
  return (dollars / 1e6) * (bill.batch ? 1 - (price.batchDiscount ?? 0.5) : 1);
}

export async function loadPriceTable(file: string): Promise<PriceTable> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new DocgenError({
      code: 'docgen/config',
      message: `cannot read price table ${file}: ${(error as Error).message}`,
      cause: error,
    });
  }
  const parsed = PriceTableSchema.safeParse(data);
  if (!parsed.success)
    throw new DocgenError({
      code: 'docgen/config',
      message: `invalid price table ${file}: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
    });
  return { ...DEFAULT_PRICES, ...parsed.data };
}
