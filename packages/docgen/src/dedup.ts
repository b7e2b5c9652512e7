import { sha256 } from '@midspec/core';
import type { DedupConfig } from './corpus-config.js';

export interface DedupDrop {
  id: string;
  reason: 'exact-duplicate' | 'near-duplicate';
  /** The kept item it duplicates. */
  duplicateOf: string;
  similarity: number;
}

/**
 * Exact (normalized text hash) and near-duplicate (MinHash over word shingles, banded LSH, then the
 * estimated Jaccard checked against the threshold) removal. Items are offered in a fixed order; the
 * first of a group is kept, so the result depends only on that order.
 */
export class Deduplicator {
  private readonly exact = new Map<string, string>();
  private readonly bands = new Map<string, string[]>();
  private readonly signatures = new Map<string, Uint32Array>();
  private readonly a: Uint32Array;
  private readonly b: Uint32Array;
  private readonly rows: number;

  constructor(private readonly config: DedupConfig) {
    const n = config.permutations;
    this.a = new Uint32Array(n);
    this.b = new Uint32Array(n);
    let state = 0x9e3779b9;
    const next = () => {
      state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x297a2d39) >>> 0;
      return state;
    };
    for (let i = 0; i < n; i += 1) {
      this.a[i] = next() | 1;
      this.b[i] = next();
    }
    // Rows per band chosen so the LSH S-curve's midpoint sits near the threshold.
    this.rows = chooseRows(n, config.nearThreshold);
  }

  /** Returns the drop when `text` duplicates a kept item, otherwise keeps it and returns undefined. */
  offer(id: string, text: string): DedupDrop | undefined {
    const normalized = text.toLowerCase().replace(/\s+/g, ' ').trim();
    const digest = sha256(normalized);
    const same = this.exact.get(digest);
    if (same !== undefined)
      return { id, reason: 'exact-duplicate', duplicateOf: same, similarity: 1 };
    const signature = this.signature(normalized);
    const candidates = new Set<string>();
    const keys: string[] = [];
    for (let start = 0; start + this.rows <= signature.length; start += this.rows) {
      let band = start;
      for (let r = start; r < start + this.rows; r += 1)
        band = Math.imul(band ^ (signature[r] as number), 0x9e3779b1) ^ (band >>> 13);
      const key = `${start}:${band >>> 0}`;
      keys.push(key);
      for (const other of this.bands.get(key) ?? []) candidates.add(other);
    }
    for (const other of candidates) {
      const similarity = estimate(signature, this.signatures.get(other) as Uint32Array);
      if (similarity >= this.config.nearThreshold)
        return { id, reason: 'near-duplicate', duplicateOf: other, similarity };
    }
    this.exact.set(digest, id);
    this.signatures.set(id, signature);
    for (const key of keys) {
      const list = this.bands.get(key);
      if (list) list.push(id);
      else this.bands.set(key, [id]);
    }
    return undefined;
  }

  private signature(normalized: string): Uint32Array {
    const words = normalized.split(' ').map(hash32);
    const size = this.config.shingleWords;
    const signature = new Uint32Array(this.config.permutations).fill(0xffffffff);
    const count = Math.max(1, words.length - size + 1);
    const a = this.a;
    const b = this.b;
    for (let i = 0; i < count; i += 1) {
      let shingle = 0x811c9dc5;
      for (let w = i; w < Math.min(words.length, i + size); w += 1)
        shingle = Math.imul(shingle ^ (words[w] as number), 0x01000193);
      shingle ^= shingle >>> 15;
      // One multiply-add per permutation in 32-bit arithmetic: fast, and good enough for MinHash.
      for (let p = 0; p < signature.length; p += 1) {
        const hashed = (Math.imul(a[p] as number, shingle) + (b[p] as number)) >>> 0;
        const mixed = (hashed ^ (hashed >>> 16)) >>> 0;
        if (mixed < (signature[p] as number)) signature[p] = mixed;
      }
    }
    return signature;
  }
}

function chooseRows(permutations: number, threshold: number): number {
  let best = 1;
  let bestGap = Number.POSITIVE_INFINITY;
  for (let rows = 1; rows <= permutations; rows += 1) {
    const bands = Math.floor(permutations / rows);
    const midpoint = (1 / bands) ** (1 / rows);
    // A midpoint a little under the threshold: candidates are re-checked, so misses cost more.
    const gap = Math.abs(midpoint - (threshold - 0.1));
    if (gap < bestGap) {
      bestGap = gap;
      best = rows;
    }
  }
  return best;
}

function estimate(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i += 1) if (a[i] === b[i]) same += 1;
  return same / a.length;
}

function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
