import { sha256, stableJson } from '@midspec/core';
import { type DeepPartial, RunSpec } from '@midspec/proto';

/**
 * The idempotency key of a run: a hash of its whole definition (base model, every stage setting, the
 * content hashes of its datasets, seed, name, labels). Re-submitting the same definition — after a
 * crash, from another machine — gives the same key, so the worker returns the existing run; any
 * change to the definition gives a new key and a new run.
 */
export function runIdempotencyKey(spec: DeepPartial<RunSpec>): string {
  // Through the proto JSON form, so that fields at their defaults hash the same however given.
  const json = RunSpec.toJSON(RunSpec.fromPartial(spec));
  return `msk1-${sha256(stableJson(json)).slice(0, 48)}`;
}
