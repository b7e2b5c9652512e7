import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateJsonlFile } from './validate-jsonl.js';

async function file(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'midspec-limits-'));
  const path = join(dir, 'data.jsonl');
  await writeFile(path, text);
  return path;
}

const ok = '{"text": "fine"}';
const nested = `{"text": "x", "extra": ${'['.repeat(200)}${']'.repeat(200)}}`;

describe('validateJsonlFile bounds', () => {
  for (const threads of [0, 2])
    it(`refuses lines over the per-record cap, deep nesting and lone surrogates (threads ${threads})`, async () => {
      const long = `{"text": "${'a'.repeat(5000)}"}`;
      const text = [ok, long, nested, '{"text": "bad \\ud800 half"}', ok, 'x'.repeat(9000)].join(
        '\n',
      );
      const result = await validateJsonlFile(await file(text), {
        format: 'text',
        maxRecordBytes: 4096,
        threads,
        parallelMinBytes: 1,
      });
      expect(result.problems.map(({ line, message }) => [line, message])).toEqual([
        [2, 'longer than the per-record cap of 4096 bytes (maxRecordBytes)'],
        [3, 'JSON nested deeper than 64 levels'],
        [4, 'a string holds the lone surrogate \\ud800, which is not valid Unicode text'],
        [6, 'longer than the per-record cap of 4096 bytes (maxRecordBytes)'],
      ]);
      expect(result.statistics.records).toBe(2);
    });

  it('skips an over-long line spread over many chunks without holding it, and counts lines on', async () => {
    const huge = `{"text": "${'b'.repeat(3 * 1024 * 1024)}"}`;
    const result = await validateJsonlFile(await file(`${huge}\n${ok}\n{"text": 1}\n`), {
      maxRecordBytes: 1024 * 1024,
      threads: 0,
    });
    expect(result.problems.map(({ line }) => line)).toEqual([1, 3]);
    expect(result.statistics.records).toBe(1);
  });

  it('accepts a surrogate pair and moderate nesting', async () => {
    const result = await validateJsonlFile(
      await file('{"text": "emoji \\ud83d\\ude00", "meta": [[[1]]]}\n'),
    );
    expect(result.problems).toEqual([]);
  });
});
