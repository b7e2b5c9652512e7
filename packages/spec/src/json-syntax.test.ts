import { describe, expect, it } from 'vitest';
import { findJsonSyntaxError } from './json-syntax.js';

describe('findJsonSyntaxError', () => {
  it('accepts what JSON.parse accepts', () => {
    for (const text of [
      '{}',
      '[]',
      ' {"a": [1, -2.5e3, true, false, null, "x\\u00e9\\n"]} ',
      '"s"',
      '0',
    ]) {
      expect(findJsonSyntaxError(text), text).toBeUndefined();
    }
  });

  it('finds where each kind of error is', () => {
    const cases: [string, number, string][] = [
      ['{"a": }', 6, 'expected a value'],
      ['{a: 1}', 1, 'property name in double quotes'],
      ['{"a" 1}', 5, "expected ':'"],
      ['[1 2]', 3, "expected ',' or ']'"],
      ['{"a": 1,}', 8, 'property name'],
      ['{"a": "x', 8, 'unterminated string'],
      ['{"a": tru}', 6, 'unexpected'],
      ['{} x', 3, 'after the end'],
      ['{"a": "\\q"}', 8, 'bad escape'],
      ['', 0, 'expected a value, found end of input'],
    ];
    for (const [text, offset, message] of cases) {
      const found = findJsonSyntaxError(text);
      expect(found?.offset, text).toBe(offset);
      expect(found?.message, text).toContain(message);
      expect(() => JSON.parse(text)).toThrow();
    }
  });
});
