import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIo } from './cli-io.js';
import { runCli } from './program.js';

class Capture {
  text = '';
  write(chunk: string | Uint8Array): boolean {
    this.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }
}

const spec = path.resolve(import.meta.dirname, '../../../examples/specs/cheese-america.yaml');
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'midspec-docs-cli-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const stdout = new Capture();
  const stderr = new Capture();
  const io: CliIo = { stdout, stderr, env, cwd: dir };
  const code = await runCli(['node', 'midspec', ...args], io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const small = [
  '--domains',
  '2',
  '--subdomains',
  '3',
  '--assertions',
  '2',
  '--doc-types',
  '2',
  '--ideas',
  '2',
];

describe('midspec docs', () => {
  it('generates a corpus with the template provider, with progress per stage', async () => {
    const result = await run([
      'docs',
      'generate',
      '--spec',
      spec,
      '--out',
      'corpus',
      '--seed',
      '3',
      ...small,
    ]);
    expect(result.stderr).toContain('documents');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/wrote \d+ documents/);
    const lines = (await readFile(path.join(dir, 'corpus/dataset.jsonl'), 'utf8'))
      .trim()
      .split('\n');
    expect(JSON.parse(lines[0] ?? '{}').spec_id).toBe('cheese-america');
    const again = await run([
      'docs',
      'generate',
      '--spec',
      spec,
      '--out',
      'corpus',
      '--seed',
      '3',
      ...small,
    ]);
    expect(again.code).toBe(0);
    expect(
      (await readFile(path.join(dir, 'corpus/dataset.jsonl'), 'utf8')).trim().split('\n'),
    ).toEqual(lines);
  });

  it('previews items, tokens and cost per level without calling a model', async () => {
    const result = await run([
      'docs',
      'preview',
      '--spec',
      spec,
      '--provider',
      'openai',
      '--model',
      'gpt-4.1-mini',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/documents\s+3125\s+3125/);
    expect(result.stdout).toMatch(/cost \$\d+\.\d\d/);
  });

  it('names the option and the variable when an API key is missing', async () => {
    const result = await run([
      'docs',
      'generate',
      '--spec',
      spec,
      '--out',
      'x',
      '--provider',
      'anthropic',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--api-key');
    expect(result.stderr).toContain('ANTHROPIC_API_KEY');
  });

  it('fails on an invalid spec with the spec package errors', async () => {
    await writeFile(path.join(dir, 'bad.yaml'), 'id: x\ntitle: t\nversion: 1\nprinciples: []\n');
    const result = await run(['docs', 'generate', '--spec', 'bad.yaml', '--out', 'x']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: invalid spec/);
  });
});

describe('midspec demos', () => {
  it('writes chat JSONL with and without reasoning', async () => {
    const result = await run([
      'demos',
      'generate',
      '--spec',
      spec,
      '--out',
      'demos',
      '--with-reasoning',
      '--domains',
      '1',
      '--prompts-per-domain',
      '6',
    ]);
    expect(result.code).toBe(0);
    const plain = (await readFile(path.join(dir, 'demos/dataset.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const reasoning = (await readFile(path.join(dir, 'demos/dataset-with-reasoning.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(plain.length).toBeGreaterThan(0);
    expect(reasoning).toHaveLength(plain.length);
    expect(Object.keys(plain[0])).toEqual(['messages']);
    expect(plain[0].messages[1].content).not.toContain('<reasoning>');
    // One representation of reasoning: the assistant turn's `reasoning` field, not a tag.
    expect(reasoning[0].messages[1].reasoning).toMatch(/CM?\w*\d/);
    expect(reasoning[0].messages[1].content).not.toContain('<reasoning>');
  });
});
