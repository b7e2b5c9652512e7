import type { CallOptions } from './provider.js';

/** Counts tokens with a real tokenizer: the worker's Tokenize RPC or a local tokenizer.json. */
export interface TokenCounter {
  readonly name: string;
  count(texts: string[], options?: CallOptions): Promise<number[]>;
}

export interface TokenStatistics {
  tokenizer: string;
  total: number;
  mean: number;
  p50: number;
  p95: number;
  max: number;
}

export async function tokenStatistics(
  counter: TokenCounter,
  texts: string[],
  options?: CallOptions,
): Promise<TokenStatistics> {
  const counts: number[] = [];
  for (let start = 0; start < texts.length; start += 256)
    counts.push(...(await counter.count(texts.slice(start, start + 256), options)));
  const sorted = [...counts].sort((a, b) => a - b);
  const total = counts.reduce((sum, value) => sum + value, 0);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return {
    tokenizer: counter.name,
    total,
    mean: counts.length ? total / counts.length : 0,
    p50: at(0.5),
    p95: at(0.95),
    max: sorted.at(-1) ?? 0,
  };
}
