import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateJsonlFile } from './validate-jsonl.js';

async function file(text: string | Buffer): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'midspec-jsonl-'));
  const path = join(dir, 'data.jsonl');
  await writeFile(path, text);
  return path;
}

describe('validateJsonlFile', () => {
  it('detects text and gathers statistics', async () => {
    const result = await validateJsonlFile(
      await file('{"text": "abcd"}\n\n{"text": "abcdefgh"}\n'),
    );
    expect(result.format).toBe('text');
    expect(result.problems).toEqual([]);
    expect(result.statistics).toMatchObject({
      records: 2,
      characters: 12,
      estimatedTokens: 3,
      minCharacters: 4,
      maxCharacters: 8,
      meanCharacters: 6,
    });
    expect(result.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('detects chat and counts roles and reasoning', async () => {
    const line = JSON.stringify({
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello', reasoning: 'greet' },
      ],
    });
    const result = await validateJsonlFile(await file(`${line}\r\n${line}`));
    expect(result.format).toBe('chat');
    expect(result.statistics).toMatchObject({
      records: 2,
      messages: 4,
      roles: { user: 2, assistant: 2 },
      reasoningBlocks: 2,
    });
  });

  it('reports every bad line with its number', async () => {
    const text = [
      '{"text": "ok"}',
      '{"text": 42}',
      'not json',
      '{"messages": []}',
      '{"text": "fine"}',
      '[1, 2]',
    ].join('\n');
    const result = await validateJsonlFile(await file(text));
    expect(result.badLines).toBe(4);
    expect(result.problems.map((problem) => problem.line)).toEqual([2, 3, 4, 6]);
    expect(result.problems[1]?.message).toContain('not valid JSON');
  });

  it('checks chats for roles and an assistant turn', async () => {
    const bad = [
      { messages: [{ role: 'user', content: 'only a question' }] },
      {
        messages: [
          { role: 'robot', content: 'x' },
          { role: 'assistant', content: 'y' },
        ],
      },
      { messages: [{ role: 'assistant', content: 3 }] },
    ];
    const result = await validateJsonlFile(
      await file(bad.map((item) => JSON.stringify(item)).join('\n')),
      { format: 'chat' },
    );
    expect(result.problems.map((problem) => problem.message)).toEqual([
      'expected at least one assistant message',
      'messages[0].role must be one of system, user, assistant, tool',
      'messages[0].content must be a string',
    ]);
  });

  it('accepts tool-calling chats in the OpenAI format', async () => {
    const call = { id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } };
    const records = [
      {
        messages: [
          { role: 'user', content: 'call f' },
          { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: 'c1', content: '42' },
          { role: 'assistant', content: 'It is 42.' },
        ],
      },
      {
        messages: [
          { role: 'user', content: null, tool_calls: [call] },
          { role: 'assistant', content: 'x' },
        ],
      },
    ];
    const result = await validateJsonlFile(
      await file(records.map((item) => JSON.stringify(item)).join('\n')),
      { format: 'chat' },
    );
    expect(result.problems.map((problem) => `${problem.line}: ${problem.message}`)).toEqual([
      '2: messages[0].tool_calls must be a list on an assistant message',
    ]);
  });

  it('refuses a file that is neither text nor chat', async () => {
    const result = await validateJsonlFile(await file('{"prompt": "a", "completion": "b"}\n'));
    expect(result.format).toBeUndefined();
    expect(result.problems[0]).toMatchObject({
      line: 1,
      message: expect.stringContaining('neither'),
    });
  });

  it('refuses invalid UTF-8 and an empty file', async () => {
    const invalid = await validateJsonlFile(
      await file(Buffer.from([0x7b, 0x22, 0x74, 0xff, 0x22, 0x7d, 0x0a])),
      { format: 'text' },
    );
    expect(invalid.problems[0]?.message).toBe('not valid UTF-8');
    const empty = await validateJsonlFile(await file('\n\n'));
    expect(empty.problems[0]?.message).toBe('the file has no records');
  });

  it('handles lines that span read chunks', async () => {
    const long = 'x'.repeat(3 * 1024 * 1024);
    const result = await validateJsonlFile(await file(`{"text": "${long}"}\n{"text": "short"}\n`));
    expect(result.problems).toEqual([]);
    expect(result.statistics.records).toBe(2);
    expect(result.statistics.maxCharacters).toBe(long.length);
  });

  it('gives the same result from worker threads as from the main thread', async () => {
    const lines: string[] = [];
    for (let index = 0; index < 3000; index += 1) {
      const message = { role: 'assistant', content: `answer ${index} ${'y'.repeat(index % 97)}` };
      lines.push(JSON.stringify({ messages: [{ role: 'user', content: 'q' }, message] }));
      if (index % 701 === 5) lines.push('{"messages": [{"role": "user", "content": "no answer"}]}');
      if (index % 997 === 3) lines.push('', '{oops');
    }
    const path = await file(`${lines.join('\r\n')}\n{"messages": 1}`);
    const main = await validateJsonlFile(path, { threads: 0 });
    expect(main.badLines).toBeGreaterThan(8);
    for (const threads of [1, 2, 3, 7]) {
      const parallel = await validateJsonlFile(path, { threads, parallelMinBytes: 0 });
      expect(parallel, `${threads} threads`).toEqual(main);
    }
    // A first line that is not a valid record leaves detection to the single scan.
    const broken = await file(`{"text": ""}\n${lines.join('\n')}`);
    expect(await validateJsonlFile(broken, { threads: 3, parallelMinBytes: 0 })).toEqual(
      await validateJsonlFile(broken, { threads: 0 }),
    );
  });

  it('stops its threads when aborted', async () => {
    const path = await file(`${'{"text": "abc"}\n'.repeat(200_000)}`);
    const controller = new AbortController();
    const pending = validateJsonlFile(path, {
      threads: 2,
      parallelMinBytes: 0,
      signal: controller.signal,
    });
    controller.abort();
    await expect(pending).rejects.toThrow();
  });
});
