import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTokenizerJson } from './tokenizer-json.js';

describe('loadTokenizerJson', () => {
  it('counts byte-level BPE tokens with the merges of the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'docgen-tok-'));
    const file = join(dir, 'tokenizer.json');
    await writeFile(
      file,
      JSON.stringify({
        model: { type: 'BPE', vocab: {}, merges: ['h e', 'l l', 'he ll', 'hell o', 'Ġ w', 'Ġw o'] },
        pre_tokenizer: { type: 'ByteLevel' },
      }),
    );
    const counter = await loadTokenizerJson(file);
    // "hello" → 1 token; " world" → "Ġwo" "r" "l" "d" = 4 tokens.
    expect(await counter.count(['hello', 'hello world', ''])).toEqual([1, 5, 0]);
    await writeFile(file, JSON.stringify({ model: { type: 'Unigram' } }));
    await expect(loadTokenizerJson(file)).rejects.toThrow(/byte-level BPE/);
    await rm(dir, { recursive: true, force: true });
  });
});
