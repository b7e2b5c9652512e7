import { type ChildProcess, spawn } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSpec } from '@midspec/spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCorpus } from './corpus-pipeline.js';
import { createTemplateProvider } from './provider-template.js';

const root = new URL('../../../', import.meta.url).pathname;
const specFile = join(root, 'examples/specs/cheese-affordability.yaml');
const config = {
  domains: 2,
  subdomains: 3,
  assertions: 3,
  docTypes: 3,
  ideas: 3,
  seed: 11,
  critique: true,
  consistencyJudge: true,
};
let dir: string;
let bundleDir: string;
let childScript: string;

// The child runs the real pipeline from a bundle of the sources (tsup, from the root toolchain), so
// the test needs no build of its own packages.
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'docgen-kill-'));
  bundleDir = await mkdtemp(join(root, 'packages/docgen/node_modules/.kill-test-'));
  const { build } = await import('tsup');
  await build({
    entry: { child: join(root, 'packages/docgen/src/test-support/corpus-child.ts') },
    // Inside the package, so zod and yaml resolve from its node_modules.
    outDir: bundleDir,
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    noExternal: [/^@midspec\//],
    external: ['yaml', 'zod', '@anthropic-ai/sdk', '@grpc/grpc-js', '@bufbuild/protobuf'],
    tsconfig: join(root, 'tsconfig.json'),
    silent: true,
    dts: false,
    sourcemap: false,
  });
  childScript = join(bundleDir, 'child.js');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(bundleDir, { recursive: true, force: true });
});

function startChild(outDir: string): ChildProcess {
  return spawn(process.execPath, [childScript, specFile, outDir, String(config.seed), '4'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

describe('kill -9 mid-run, then rerun', () => {
  it('ends with the same corpus as an uninterrupted run: no duplicates, no torn lines', async () => {
    const { spec } = await loadSpec(specFile);
    const reference = await generateCorpus({
      spec,
      provider: createTemplateProvider(),
      outDir: join(dir, 'reference'),
      config,
    });
    expect(reference.documents.length).toBeGreaterThan(50);

    const outDir = join(dir, 'killed');
    const child = startChild(outDir);
    let seen = '';
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        const match = /documents (\d+)\/(\d+)\n[^\n]*$/.exec(seen);
        if (match && Number(match[1]) >= Number(match[2]) / 3) {
          child.kill('SIGKILL');
          resolve();
        }
        if (seen.includes('finished'))
          reject(new Error('the child finished before it could be killed'));
      });
    });
    expect(await exited).toBe('SIGKILL');
    const partial = (await readFile(join(outDir, 'stages/documents.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(reference.documents.length);
    // A record cut off mid-write, as a kill during write(2) on another filesystem could leave.
    await appendFile(join(outDir, 'stages/documents.jsonl'), '{"key":"d0.s0.a0.t0.i0.n0","ok":tr');

    const rerun = startChild(outDir);
    const code = await new Promise<number | null>((resolve) =>
      rerun.on('exit', (value) => resolve(value)),
    );
    expect(code).toBe(0);

    const expected = await readFile(join(dir, 'reference/dataset.jsonl'), 'utf8');
    const actual = await readFile(join(outDir, 'dataset.jsonl'), 'utf8');
    expect(actual).toBe(expected);
    const ids = actual
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { id: string }).id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const stage of ['documents', 'revisions', 'consistency']) {
      const lines = (await readFile(join(outDir, `stages/${stage}.jsonl`), 'utf8')).split('\n');
      expect(lines.at(-1)).toBe('');
      const keys = lines.filter(Boolean).map((line) => (JSON.parse(line) as { key: string }).key);
      expect(new Set(keys).size).toBe(keys.length);
    }
  });
});
