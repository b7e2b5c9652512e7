import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256File } from './hash-file.js';

const dir = await mkdtemp(join(tmpdir(), 'midspec-hash-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('sha256File', () => {
  it('hashes a multi-chunk file in one pass, handing every chunk and the progress to the caller', async () => {
    const content = Buffer.alloc(2.5 * 1024 * 1024, 'x');
    content.write('{"text": "a"}\n', 1_500_000);
    const path = join(dir, 'data.jsonl');
    await writeFile(path, content);
    const chunks: Buffer[] = [];
    const progress: number[] = [];
    const digest = await sha256File(path, {
      onChunk: (chunk) => chunks.push(chunk),
      onProgress: (bytes) => progress.push(bytes),
    });
    expect(digest).toBe(createHash('sha256').update(content).digest('hex'));
    expect(Buffer.concat(chunks).equals(content)).toBe(true);
    expect(chunks.length).toBe(3);
    expect(progress.at(-1)).toBe(content.length);
  });

  it('stops when the signal aborts', async () => {
    const path = join(dir, 'small.jsonl');
    await writeFile(path, 'x\n');
    await expect(sha256File(path, { signal: AbortSignal.abort() })).rejects.toThrow(/abort/i);
  });
});
