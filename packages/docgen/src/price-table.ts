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
  'openai/gpt-4.1': { inputPerMillion: 2, outputPerMillion: 8 },
  'openai/gpt-4.1-mini': { inputPerMillion: 0.4, outputPerMillion: 1.6 },
  'openai/gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 },
  'anthropic/claude-sonnet-4-5': { inputPerMillion: 3, outputPerMillion: 15 },
  'anthropic/claude-haiku-4-5': { inputPerMillion: 1, outputPerMillion: 5 },
};

export function priceFor(table: PriceTable, provider: string, model: string): Price | undefined {
  if (provider === 'template' || provider === 'worker')
    return table[`${provider}/${model}`] ?? { inputPerMillion: 0, outputPerMillion: 0 };
  return table[`${provider}/${model}`] ?? table[model];
}

export function costOf(price: Price | undefined, promptTokens: number, completionTokens: number) {
  if (!price) return undefined;
  return (promptTokens * price.inputPerMillion + completionTokens * price.outputPerMillion) / 1e6;
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
