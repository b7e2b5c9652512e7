import { readFile } from 'node:fs/promises';
import { DocgenError } from './docgen-error.js';
import type { TokenCounter } from './token-counter.js';

interface TokenizerFile {
  model?: { type?: string; vocab?: Record<string, number>; merges?: (string | [string, string])[] };
  pre_tokenizer?: unknown;
}

// GPT-2's split; GPT-4/Llama-3/Qwen-style files carry their own pattern, which is used instead.
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/**
 * Token counts from a Hugging Face tokenizer.json with a byte-level BPE model (GPT-2, Llama 3, Qwen,
 * and most current models): the file's own split pattern, byte-to-unicode mapping and merge ranks.
 */
export async function loadTokenizerJson(file: string): Promise<TokenCounter> {
  let data: TokenizerFile;
  try {
    data = JSON.parse(await readFile(file, 'utf8')) as TokenizerFile;
  } catch (error) {
    throw new DocgenError({
      code: 'docgen/tokenizer',
      message: `cannot read tokenizer ${file}: ${(error as Error).message}`,
      cause: error,
    });
  }
  if (data.model?.type !== 'BPE' || !data.model.merges) {
    throw new DocgenError({
      code: 'docgen/tokenizer',
      message: `${file}: only byte-level BPE tokenizer.json files are supported (model.type is ${data.model?.type ?? 'missing'}); use the worker's Tokenize RPC (--worker) for others`,
    });
  }
  const ranks = new Map<string, number>();
  data.model.merges.forEach((merge, rank) => {
    const [a, b] = typeof merge === 'string' ? merge.split(' ') : merge;
    ranks.set(`${a} ${b}`, rank);
  });
  const split = findSplitPattern(data.pre_tokenizer) ?? GPT2_SPLIT;
  const byteChars = bytesToUnicode();
  const cache = new Map<string, number>();
  const countWord = (word: string): number => {
    const cached = cache.get(word);
    if (cached !== undefined) return cached;
    let parts = [...Buffer.from(word, 'utf8')].map((byte) => byteChars[byte] as string);
    while (parts.length > 1) {
      let best = -1;
      let bestRank = Number.POSITIVE_INFINITY;
      for (let i = 0; i < parts.length - 1; i += 1) {
        const rank = ranks.get(`${parts[i]} ${parts[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      parts = [
        ...parts.slice(0, best),
        `${parts[best]}${parts[best + 1]}`,
        ...parts.slice(best + 2),
      ];
    }
    if (cache.size < 100_000) cache.set(word, parts.length);
    return parts.length;
  };
  return {
    name: `tokenizer.json:${file}`,
    async count(texts: string[]) {
      return texts.map((text) => {
        let total = 0;
        for (const match of text.matchAll(new RegExp(split.source, split.flags)))
          total += countWord(match[0]);
        return total;
      });
    },
  };
}

function findSplitPattern(node: unknown): RegExp | undefined {
  if (typeof node !== 'object' || node === null) return undefined;
  const record = node as Record<string, unknown>;
  const pattern = record.pattern as { Regex?: string } | undefined;
  if (record.type === 'Split' && typeof pattern?.Regex === 'string') {
    try {
      // Oniguruma's possessive quantifiers and (?i:) groups do not exist in JS; soften them.
      const source = pattern.Regex.replace(/\?\+/g, '?')
        .replace(/\+\+/g, '+')
        .replace(/\*\+/g, '*')
        .replace(/\(\?i:/g, '(?:');
      return new RegExp(source, 'gu');
    } catch {
      return undefined;
    }
  }
  for (const value of Object.values(record)) {
    const found = Array.isArray(value)
      ? value.map(findSplitPattern).find(Boolean)
      : findSplitPattern(value);
    if (found) return found;
  }
  return undefined;
}

/** GPT-2's reversible byte → printable character map. */
function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b += 1) printable.push(b);
  for (let b = 161; b <= 172; b += 1) printable.push(b);
  for (let b = 174; b <= 255; b += 1) printable.push(b);
  const map: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b += 1) {
    if (printable.includes(b)) map[b] = String.fromCodePoint(b);
    else {
      map[b] = String.fromCodePoint(256 + extra);
      extra += 1;
    }
  }
  return map;
}
