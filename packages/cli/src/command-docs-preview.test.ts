import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliIo } from './cli-io.js';
import { runCli } from './program.js';

const spec = path.resolve(import.meta.dirname, '../../../examples/specs/cheese-america.yaml');

class Capture {
  text = '';
  write(chunk: string | Uint8Array): boolean {
    this.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }
}

async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const stdout = new Capture();
  const stderr = new Capture();
  const io: CliIo = { stdout, stderr, env, cwd: import.meta.dirname };
  const code = await runCli(['node', 'midspec', ...args], io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const totalCost = (text: string) => Number(/cost \$(\d+\.\d\d)/.exec(text)?.[1]);

let close: (() => void) | undefined;
afterEach(() => {
  close?.();
  close = undefined;
});

describe('docs preview: batch discount, prompt cache and token counts', () => {
  it('--batch halves the text stages and shows the cache reads of the spec prefix', async () => {
    const base = [
      'docs',
      'preview',
      '--spec',
      spec,
      '--provider',
      'anthropic',
      '--max-documents',
      '500',
    ];
    const direct = await run(base);
    const batched = await run([...base, '--batch']);
    expect(batched.code).toBe(0);
    expect(batched.stdout).toMatch(/documents\s+500\s+500\s+\d+\s+\d+\s+\d+\s+yes/);
    expect(batched.stdout).toMatch(/batch: documents through the batch API at the batch discount/);
    expect(batched.stdout).toMatch(
      /prompt cache: expected: the spec prefix \(\d+ tokens\) marked with cache_control/,
    );
    expect(batched.stdout).toContain('estimate, not a count');
    expect(totalCost(batched.stdout)).toBeLessThan(totalCost(direct.stdout));
  });

  it("--provider-token-count counts each prompt with Anthropic's countTokens endpoint", async () => {
    const counted: unknown[] = [];
    const server = createServer(async (request, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      counted.push(body);
      response.writeHead(request.url === '/v1/messages/count_tokens' ? 200 : 404, {
        'content-type': 'application/json',
      });
      // A stand-in tokenizer: three characters a token over what the request carries.
      const text = JSON.stringify([body.system ?? '', body.messages]);
      response.end(JSON.stringify({ input_tokens: Math.ceil(text.length / 3) }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    close = () => server.close();
    const result = await run(
      [
        'docs',
        'preview',
        '--spec',
        spec,
        '--provider',
        'anthropic',
        '--base-url',
        `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        '--provider-token-count',
      ],
      { ANTHROPIC_API_KEY: 'k' },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'tokenizer: anthropic messages.countTokens (claude-sonnet-4-5)',
    );
    expect(counted.length).toBeGreaterThan(5);
    expect(counted[0]).toMatchObject({ model: 'claude-sonnet-4-5', system: [{ type: 'text' }] });
    const openai = await run([
      'docs',
      'preview',
      '--spec',
      spec,
      '--provider',
      'openai',
      '--provider-token-count',
    ]);
    expect(openai.code).not.toBe(0);
    expect(openai.stderr).toContain('--provider-token-count needs --provider anthropic');
  });
});
