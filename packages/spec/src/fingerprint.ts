import { sha256, stableJson } from '@midspec/core';
import { toCanonicalObject } from './render-structured.js';
import type { Spec } from './spec-schema.js';

/**
 * A content hash of the spec that ignores formatting: the file format, key order, indentation, line
 * wrapping inside paragraphs and the `$schema` reference do not change it; any change to content
 * does. Downstream caches (document corpora, datasets) key on it. Variables are not substituted.
 */
export function fingerprintSpec(spec: Spec): string {
  const canonical = normalize(toCanonicalObject(spec));
  return `sha256:${sha256(stableJson(canonical))}`;
}

function normalize(value: unknown): unknown {
  if (typeof value === 'string') {
    return value
      .trim()
      .split(/\n[ \t]*\n\s*/)
      .map((paragraph) => paragraph.replace(/\s+/g, ' '))
      .join('\n\n');
  }
  if (Array.isArray(value)) return value.map(normalize);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, normalize(item)]));
  }
  return value;
}
