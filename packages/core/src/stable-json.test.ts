import { describe, expect, it } from 'vitest';
import { deriveSeed, hashValue, sha256, stableJson } from './stable-json.js';

describe('stableJson', () => {
  it('sorts keys at every depth and leaves out undefined members', () => {
    expect(stableJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[1,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('gives equal text for equal values written in any key order', () => {
    expect(stableJson({ x: 1, y: [true, null] })).toBe(stableJson({ y: [true, null], x: 1 }));
    expect(hashValue({ x: 1, y: 2 })).toBe(hashValue({ y: 2, x: 1 }));
    expect(hashValue({ x: 1 })).not.toBe(hashValue({ x: 2 }));
  });

  it('writes scalars, dates and holes as JSON does', () => {
    expect(stableJson('a"b')).toBe('"a\\"b"');
    expect(stableJson(undefined)).toBe('null');
    expect(stableJson([undefined, 2])).toBe('[null,2]');
    expect(stableJson(new Date('2026-01-02T03:04:05.000Z'))).toBe('"2026-01-02T03:04:05.000Z"');
  });
});

describe('sha256 and deriveSeed', () => {
  it('match the published sha256 test vector', () => {
    expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('derive the same 32-bit seed from the same parts, and a different one otherwise', () => {
    expect(deriveSeed('corpus', 3)).toBe(deriveSeed('corpus', 3));
    expect(deriveSeed('corpus', 3)).not.toBe(deriveSeed('corpus', 4));
    // Parts are separated, so ('ab', 'c') and ('a', 'bc') differ.
    expect(deriveSeed('ab', 'c')).not.toBe(deriveSeed('a', 'bc'));
    expect(deriveSeed('x')).toBeGreaterThanOrEqual(0);
    expect(deriveSeed('x')).toBeLessThan(2 ** 32);
  });
});
