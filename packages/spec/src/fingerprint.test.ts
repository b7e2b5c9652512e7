import { describe, expect, it } from 'vitest';
import { fingerprintSpec } from './fingerprint.js';
import { parseSpec } from './load-spec.js';

const yaml = `id: s
title: S
version: "1"
principles:
  - id: P1
    statement: >-
      Quote the price
      per pound.
    tags: [a]
`;

describe('fingerprintSpec', () => {
  const base = fingerprintSpec(parseSpec(yaml, { format: 'yaml' }).spec);

  it('is a sha256 that ignores format, key order, wrapping and defaults written out', () => {
    expect(base).toMatch(/^sha256:[0-9a-f]{64}$/);
    const json = JSON.stringify({
      principles: [
        { tags: ['a'], statement: 'Quote the price  per\npound. ', id: 'P1', examples: [] },
      ],
      version: '1',
      title: 'S',
      id: 's',
      $schema: './spec.schema.json',
      values: [],
    });
    expect(fingerprintSpec(parseSpec(json, { format: 'json' }).spec)).toBe(base);
    const markdown =
      '---\nid: s\nversion: "1"\n---\n\n# S\n\n## Principles\n\n### P1 {#P1}\n\nQuote the\nprice per pound.\n\n**Tags:** a\n';
    expect(fingerprintSpec(parseSpec(markdown, { format: 'markdown' }).spec)).toBe(base);
  });

  it('changes with content', () => {
    for (const changed of [
      yaml.replace('per pound', 'per kilo'),
      yaml.replace('[a]', '[b]'),
      yaml.replace('version: "1"', 'version: "2"'),
      // A paragraph break is content (in a folded scalar, two blank lines make one).
      yaml.replace('price\n      per', 'price\n\n\n      per'),
    ]) {
      expect(fingerprintSpec(parseSpec(changed, { format: 'yaml' }).spec)).not.toBe(base);
    }
  });
});
