import { createHash } from 'node:crypto';
import { type DeepPartial, RunSpec } from '@midspec/proto';

/** JSON with object keys sorted, so that equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The idempotency key of a run: a hash of its whole definition (base model, every stage setting, the
 * content hashes of its datasets, seed, name, labels). Re-submitting the same definition — after a
 * crash, from another machine — gives the same key, so the worker returns the existing run; any
 * change to the definition gives a new key and a new run.
 */
export function runIdempotencyKey(spec: DeepPartial<RunSpec>): string {
  // Through the proto JSON form, so that fields at their defaults hash the same however given.
  const json = RunSpec.toJSON(RunSpec.fromPartial(spec));
  return `msk1-${createHash('sha256').update(canonicalJson(json)).digest('hex').slice(0, 48)}`;
}
