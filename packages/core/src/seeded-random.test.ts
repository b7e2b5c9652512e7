import { describe, expect, it } from 'vitest';
import { SeededRandom, seededRandom } from './seeded-random.js';

describe('seededRandom', () => {
  it('repeats exactly for a seed and is uniform enough for resampling', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const first = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(first);
    expect(Array.from({ length: 5 }, seededRandom(43))).not.toEqual(first);
    const draws = Array.from({ length: 10_000 }, seededRandom(7));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    const mean = draws.reduce((sum, x) => sum + x, 0) / draws.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
  });

  it('is mulberry32 (values fixed across versions, so cached results stay valid)', () => {
    const next = seededRandom(1);
    expect(next()).toBeCloseTo(0.6270739405881613, 15);
  });
});

describe('SeededRandom', () => {
  it('seeds from parts and offers pick, int, chance and shuffle', () => {
    const random = new SeededRandom('docs', 3);
    const again = new SeededRandom('docs', 3);
    expect(random.shuffle([1, 2, 3, 4, 5])).toEqual(again.shuffle([1, 2, 3, 4, 5]));
    expect([...random.shuffle([1, 2, 3, 4, 5])].sort()).toEqual([1, 2, 3, 4, 5]);
    const int = random.int(3);
    expect(Number.isInteger(int) && int >= 0 && int < 3).toBe(true);
    expect(['a', 'b']).toContain(random.pick(['a', 'b']));
    expect(random.chance(1)).toBe(true);
    expect(random.chance(0)).toBe(false);
    expect(() => random.pick([])).toThrow(/empty/);
  });
});
