import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
let directory: string | undefined;

afterAll(async () => {
  if (directory) await rm(directory, { recursive: true, force: true });
});

/**
 * Offline, pnpm resolves each dependency to the newest version it has metadata for, which need not
 * be in the store: pin every third-party package to the version this repository's lockfile has.
 */
async function lockfilePins(): Promise<Record<string, string>> {
  const lock = await readFile(join(root, 'pnpm-lock.yaml'), 'utf8');
  const section = lock.slice(lock.lastIndexOf('\npackages:\n'), lock.lastIndexOf('\nsnapshots:\n'));
  const pins: Record<string, string> = {};
  for (const match of section.matchAll(/^ {2}'?((?:@[^/\s]+\/)?[^@\s']+)@([0-9][^(':\s]*)/gm)) {
    const [, name, version] = match as unknown as [string, string, string];
    // Several versions of one package: the newest is the one pnpm would pick.
    if (!pins[name] || compare(version, pins[name]) > 0) pins[name] = version;
  }
  return pins;
}

function compare(a: string, b: string): number {
  const parts = (version: string) => version.split(/[.-]/).map((part) => Number(part) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let index = 0; index < Math.max(x.length, y.length); index += 1) {
    const difference = (x[index] ?? 0) - (y[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

describe('the packed @midspec/eval', () => {
  it('installs alone in a clean folder, offline, and its README statistics snippet runs', async () => {
    directory = await mkdtemp(join(tmpdir(), 'midspec-packed-'));
    const tarball = async (name: string) => {
      const { stdout } = await run('pnpm', ['pack', '--pack-destination', directory as string], {
        cwd: join(root, 'packages', name),
      });
      return stdout.trim().split('\n').at(-1) as string;
    };
    const tarballs = {
      '@midspec/core': await tarball('core'),
      '@midspec/proto': await tarball('proto'),
      '@midspec/models': await tarball('models'),
      '@midspec/eval': await tarball('eval'),
    };
    const app = join(directory, 'app');
    await run('mkdir', ['-p', app]);
    await writeFile(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'packed-eval-probe',
        private: true,
        type: 'module',
        dependencies: { '@midspec/eval': `file:${tarballs['@midspec/eval']}` },
      }),
    );
    const overrides = {
      ...(await lockfilePins()),
      '@midspec/core': `file:${tarballs['@midspec/core']}`,
      '@midspec/proto': `file:${tarballs['@midspec/proto']}`,
      '@midspec/models': `file:${tarballs['@midspec/models']}`,
    };
    await writeFile(
      join(app, 'pnpm-workspace.yaml'),
      `overrides:\n${Object.entries(overrides)
        .map(([name, version]) => `  ${JSON.stringify(name)}: ${JSON.stringify(version)}`)
        .join(
          '\n',
        )}\n# Its postinstall only prints a version notice (as in this repository's workspace).\nallowBuilds:\n  protobufjs: false\n`,
    );
    await run('pnpm', ['install', '--offline'], { cwd: app, env: { ...process.env, CI: 'true' } });
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
