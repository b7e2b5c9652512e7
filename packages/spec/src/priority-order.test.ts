import { describe, expect, it } from 'vitest';
import { buildPriorityOrder } from './priority-order.js';
import { SpecSchema } from './spec-schema.js';

const spec = (principles: Record<string, unknown>[], authorityLevels: string[] = []) =>
  SpecSchema.parse({
    id: 's',
    title: 'S',
    version: '1',
    preamble: { authorityLevels },
    principles,
  });

describe('buildPriorityOrder', () => {
  it('orders by priority number, overrides and authority, transitively', () => {
    const order = buildPriorityOrder(
      spec(
        [
          { id: 'A', statement: 'a', priority: 1 },
          { id: 'B', statement: 'b', priority: 2, overrides: ['C'] },
          { id: 'C', statement: 'c', authority: 'platform' },
          { id: 'D', statement: 'd', authority: 'user' },
          { id: 'E', statement: 'e', priority: 1 },
        ],
        ['platform', 'user'],
      ),
    );
    expect(order.cycle).toBeUndefined();
    expect(order.precedes('A', 'B')).toBe(true);
    expect(order.precedes('A', 'C')).toBe(true);
    expect(order.precedes('A', 'D')).toBe(true);
    expect(order.precedes('B', 'A')).toBe(false);
    expect(order.precedes('A', 'E')).toBe(false);
    expect(order.precedes('E', 'A')).toBe(false);
  });

  it('finds a cycle', () => {
    const order = buildPriorityOrder(
      spec([
        { id: 'A', statement: 'a', overrides: ['B'] },
        { id: 'B', statement: 'b', overrides: ['A'] },
      ]),
    );
    expect(order.cycle).toEqual(['A', 'B', 'A']);
  });

  it('ignores references to unknown principles (the linter reports them)', () => {
    expect(
      buildPriorityOrder(spec([{ id: 'A', statement: 'a', overrides: ['Z'] }])).cycle,
    ).toBeUndefined();
  });
});
