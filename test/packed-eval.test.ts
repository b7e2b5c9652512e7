import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { installTarballs, packPackage, root } from './packed-install.js';

const run = promisify(execFile);
let directory: string | undefined;

afterAll(async () => {
  if (directory) await rm(directory, { recursive: true, force: true });
});

describe('the packed @midspec/eval', () => {
  it('installs alone in a clean folder, offline, and its README statistics snippet runs', async () => {
    directory = await mkdtemp(join(tmpdir(), 'midspec-packed-'));
    const tarballs: Record<string, string> = {};
    for (const name of ['core', 'proto', 'models', 'eval'])
      tarballs[`@midspec/${name}`] = await packPackage(name, directory);
    const app = join(directory, 'app');
    await installTarballs(app, '@midspec/eval', tarballs);
    // onnxruntime-node is an optional peer: a user who does not score ONNX files never installs it.
    await expect(
      readFile(join(app, 'node_modules', 'onnxruntime-node', 'package.json')),
    ).rejects.toThrow();

    const readme = await readFile(join(root, 'packages', 'eval', 'README.md'), 'utf8');
    const statistics = readme.slice(readme.indexOf('## Statistics'));
    const snippet = /```ts\n([\s\S]*?)```/.exec(statistics)?.[1] as string;
    await writeFile(
      join(app, 'snippet.mjs'),
      `${snippet}\nconsole.log(JSON.stringify({ wilson: wilsonInterval(0, 50, 0.95), mcnemar: mcnemarExact(1, 9).pValue }));\n`,
    );
    const { stdout } = await run('node', ['snippet.mjs'], { cwd: app });
    const result = JSON.parse(stdout) as { wilson: { upper: number }; mcnemar: number };
    expect(result.wilson.upper).toBeCloseTo(0.0713, 4);
    expect(result.mcnemar).toBeCloseTo(0.0215, 4);
    // ESM only, yet require() works on the Node versions `engines` admits (20.19 and later).
    const required = await run(
      'node',
      ['-e', "console.log(typeof require('@midspec/eval').wilsonInterval)"],
      { cwd: app },
    );
    expect(required.stdout.trim()).toBe('function');
  }, 120_000);
});
