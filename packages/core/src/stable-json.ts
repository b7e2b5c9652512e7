import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted and `undefined` members left out, so equal values always give equal
 * text (and equal hashes) whatever order their keys were written in.
 */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => stableJson(item)).join(',')}]`;
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Hex sha256 of a text (UTF-8). */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Hex sha256 of `stableJson(value)`: a content key for any JSON-like value. */
export function hashValue(value: unknown): string {
  return sha256(stableJson(value));
}

/** A 32-bit seed derived from any parts: the same parts give the same seed on every machine. */
export function deriveSeed(...parts: (string | number)[]): number {
  return createHash('sha256').update(parts.join('\u0000')).digest().readUInt32BE(0);
}
