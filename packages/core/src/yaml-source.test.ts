import { describe, expect, it } from 'vitest';
import { formatValuePath, parseValuePath, parseYamlSource } from './yaml-source.js';

const text = `name: demo
stages:
  - kind: midtrain
    optimizer:
      learningRate: 0.0001
  - kind: sft
    extra: 1
`;

describe('parseYamlSource', () => {
  it('gives the value and the line and column of any path', () => {
    const source = parseYamlSource(text);
    expect(source.problems).toEqual([]);
    expect(source.value).toMatchObject({ name: 'demo', stages: [{ kind: 'midtrain' }, {}] });
    expect(source.locate(['stages', 0, 'optimizer', 'learningRate'])).toEqual({
      line: 5,
      column: 21,
    });
    // An unknown key points at the key itself.
    expect(source.locate(['stages', 1, 'extra'])).toEqual({ line: 7, column: 12 });
  });

  it('points a missing path at its nearest existing parent, unless asked for an exact node', () => {
    const source = parseYamlSource(text);
    expect(source.locate(['stages', 1, 'optimizer'])?.line).toBe(6);
    expect(source.locate(['stages', 1, 'optimizer'], { nearest: false })).toBeUndefined();
    expect(source.locate([])).toEqual({ line: 1, column: 1 });
  });

  it('lists every syntax problem with its position instead of throwing', () => {
    const source = parseYamlSource('a: 1\na: 2\nb: [1, 2\n');
    expect(source.value).toBeUndefined();
    expect(source.problems.length).toBeGreaterThanOrEqual(2);
    expect(source.problems[0]).toMatchObject({ line: 2, column: 1 });
    expect(source.problems.every((problem) => !problem.message.includes('\n'))).toBe(true);
  });

  it('allows duplicate keys when asked', () => {
    expect(parseYamlSource('a: 1\na: 2\n', { uniqueKeys: false }).problems).toEqual([]);
  });

  it('refuses an alias bomb with the position of an alias', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
    ].join('\n');
    const source = parseYamlSource(bomb);
    expect(source.value).toBeUndefined();
    expect(source.problems).toHaveLength(1);
    expect(source.problems[0]?.line).toBe(2);
  });
});

describe('value paths', () => {
  it('format and parse back', () => {
    expect(formatValuePath(['stages', 1, 'optimizer'])).toBe('stages[1].optimizer');
    expect(parseValuePath('stages[1].optimizer')).toEqual(['stages', 1, 'optimizer']);
    expect(formatValuePath([])).toBe('');
  });
});
