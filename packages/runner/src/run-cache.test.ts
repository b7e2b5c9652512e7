import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cachedStep, stepDir, stepKey } from './run-cache.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('cached steps', () => {
  it('keys by content, not by key order', () => {
    expect(stepKey({ a: 1, b: [1, 2] })).toBe(stepKey({ b: [1, 2], a: 1 }));
    expect(stepKey({ a: 1 })).not.toBe(stepKey({ a: 2 }));
    expect(stepDir('/out', 'corpus', 'america', 'abcdef0123456789')).toBe(
      '/out/corpus/america-abcdef012345',
    );
  });

  it('runs a step once, redoes it when the key changes, and redoes one that crashed', async () => {
    dir = await mkdtemp(join(tmpdir(), 'midspec-cache-'));
    let calls = 0;
    const produce = async (folder: string) => {
      calls += 1;
      await writeFile(join(folder, 'out.txt'), String(calls));
      return { calls };
    };
    const first = await cachedStep(join(dir, 's'), 'k1', produce);
    const again = await cachedStep(join(dir, 's'), 'k1', produce);
    expect(first.cached).toBe(false);
    expect(again).toMatchObject({ cached: true, value: { calls: 1 } });
    const changed = await cachedStep(join(dir, 's'), 'k2', produce);
    expect(changed).toMatchObject({ cached: false, value: { calls: 2 } });
    await expect(
      cachedStep(join(dir, 'crash'), 'k', async () => {
        throw new Error('killed');
      }),
    ).rejects.toThrow('killed');
    const redone = await cachedStep(join(dir, 'crash'), 'k', produce);
    expect(redone.cached).toBe(false);
    expect(await readFile(join(dir, 'crash', 'out.txt'), 'utf8')).toBe('3');
  });
});
