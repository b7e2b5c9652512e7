import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOpenAIBatchClient } from '@midspec/models';
import { loadSpec } from '@midspec/spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCorpus } from './corpus-pipeline.js';
import { createTemplateProvider } from './provider-template.js';
import { startFakeOpenAIBatchServer } from './test-support/fake-batch-server.js';

// kill -9 of a real process at three points of a batch's life (while uploading the batch input,
// while polling, while downloading the results), then a rerun: nothing lost, one batch paid for.

const root = new URL('../../../', import.meta.url).pathname;
const specFile = join(root, 'examples/specs/cheese-affordability.yaml');
const config = {
  domains: 1,
  subdomains: 2,
  assertions: 1,
  docTypes: 2,
  ideas: 2,
  minDocumentChars: 5,
};
let bundleDir: string;
let childScript: string;

beforeAll(async () => {
  bundleDir = await mkdtemp(join(root, 'packages/docgen/node_modules/.batch-kill-'));
  const { build } = await import('tsup');
  await build({
    entry: { child: join(root, 'packages/docgen/src/test-support/batch-child.ts') },
    outDir: bundleDir,
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    // The SDK is bundled too: it is a dependency of @midspec/models, not of this package.
    noExternal: [/^@midspec\//, /^openai/],
    external: ['yaml', 'zod', '@anthropic-ai/sdk', '@grpc/grpc-js', '@bufbuild/protobuf'],
    tsconfig: join(root, 'tsconfig.json'),
    silent: true,
    dts: false,
    sourcemap: false,
  });
  childScript = join(bundleDir, 'child.js');
});

afterAll(async () => {
  await rm(bundleDir, { recursive: true, force: true });
});

const points = [
  { name: 'uploading the batch input', method: 'POST', path: '/v1/files', created: 0 },
  { name: 'polling', method: 'GET', path: '/v1/batches/batch_1', created: 1 },
  {
    name: 'downloading the results',
    method: 'GET',
    path: '/v1/files/file-out-batch_1/content',
    created: 1,
  },
];

describe('kill -9 during a batch, then rerun', () => {
  for (const point of points) {
    it(`while ${point.name}`, async () => {
      const outDir = await mkdtemp(join(tmpdir(), 'docgen-batch-kill-'));
      let child: ChildProcess | undefined;
      let killed = false;
      const server = await startFakeOpenAIBatchServer({
        answer: (customId) => `Document ${customId}: the rule, and the reason behind it.`,
        resultsDelayMs: 300,
        onRequest: (method, path) => {
          if (!killed && child && method === point.method && path === point.path) {
            killed = true;
            child.kill('SIGKILL');
          }
        },
      });
      try {
        child = spawn(process.execPath, [childScript, specFile, outDir, `${server.url}/v1`], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let output = '';
        child.stdout?.on('data', (chunk) => {
          output += String(chunk);
        });
        const [code, signal] = await once(child, 'exit');
        expect(signal).toBe('SIGKILL');
        expect(code).toBeNull();
        expect(output).not.toContain('finished');
        expect(server.created()).toBe(point.created);
        const journal = (await readFile(join(outDir, 'stages/batches/documents.jsonl'), 'utf8'))
          .trim()
          .split('\n')
          .map((line) => (JSON.parse(line) as { event: string }).event);
        expect(journal).not.toContain('collected');

        const { spec } = await loadSpec(specFile);
        const result = await generateCorpus({
          spec,
          provider: createTemplateProvider(),
          batch: createOpenAIBatchClient({
            model: 'gpt-test',
            baseUrl: `${server.url}/v1`,
            apiKey: 'k',
          }),
          batchPollIntervalMs: 5,
          outDir,
          config,
        });
        expect(server.created()).toBe(1);
        expect(result.documents).toHaveLength(8);
      } finally {
        child?.kill('SIGKILL');
        await server.close();
        await rm(outDir, { recursive: true, force: true });
      }
    });
  }
});
