import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { resolveWorkerCommand } from '@midspec/runner';
import { afterAll, describe, expect, it } from 'vitest';
import { installTarballs, packPackage, root } from './packed-install.js';

const run = promisify(execFile);
const workerDir = join(root, 'workers', 'torch');
const uv = join(root, '.tools', 'uv', 'bin', 'uv');
let directory: string | undefined;

afterAll(async () => {
  if (directory) await rm(directory, { recursive: true, force: true });
});

/** The CLI and every @midspec package it pulls in. */
const PACKAGES = [
  'core',
  'spec',
  'proto',
  'models',
  'docgen',
  'trainer',
  'eval',
  'runner',
  'worker-testkit',
  'cli',
];

describe('midspec installed from its packages, with no checkout', () => {
  it('the worker wheel and the packed CLI, installed into a clean folder, train the quickstart', async () => {
    directory = await mkdtemp(join(tmpdir(), 'midspec-install-'));
    const started = Date.now();

    // The worker: a wheel built from workers/torch, pip-installed (uv pip) into a fresh venv whose
    // dependencies come from the lockfile through uv's cache (offline, hard links: seconds).
    const wheels = join(directory, 'wheels');
    await run(uv, ['build', '--wheel', '--offline', '--out-dir', wheels, '-q'], { cwd: workerDir });
    const wheel = (await readdir(wheels)).find((name) => name.endsWith('.whl')) as string;
    expect(wheel).toMatch(/^midspec_worker-.*-py3-none-any\.whl$/);
    const venv = join(directory, 'venv');
    const uvEnv = { ...process.env, UV_PYTHON_DOWNLOADS: 'never' };
    await run(
      uv,
      ['sync', '--frozen', '--no-dev', '--no-install-project', '--offline', '--python', '3.11'],
      { cwd: workerDir, env: { ...uvEnv, UV_PROJECT_ENVIRONMENT: venv } },
    );
    await run(uv, ['pip', 'install', '--offline', '--no-deps', '-q', join(wheels, wheel)], {
      cwd: directory,
      env: { ...uvEnv, VIRTUAL_ENV: venv },
    });

    const { stdout: location } = await run(join(venv, 'bin', 'python'), [
      '-c',
      'import midspec_worker; print(midspec_worker.__file__)',
    ]);
    expect(location.trim().startsWith(join(venv, 'lib'))).toBe(true);

    // The CLI: each package packed as a tarball and installed offline into a clean project.
    const tarballs: Record<string, string> = {};
    for (const name of PACKAGES) tarballs[`@midspec/${name}`] = await packPackage(name, directory);
    const app = join(directory, 'app');
    await installTarballs(app, '@midspec/cli', tarballs);
    const { stdout: cliPath } = await run('node', [
      '-e',
      "console.log(require('node:fs').realpathSync(require.resolve('@midspec/cli/package.json', { paths: [process.argv[1]] })))",
      app,
    ]);
    expect(cliPath.trim().startsWith(app)).toBe(true);
    const installed = Date.now();

    // The quickstart's data, copied: nothing of the checkout is on any path the command sees.
    for (const file of ['documents.jsonl', 'chats.jsonl'])
      await copyFile(join(root, 'examples', 'quickstart', file), join(app, file));
    const env = {
      PATH: `${join(venv, 'bin')}:${dirname(process.execPath)}:/usr/bin:/bin`,
      HOME: directory,
    };
    expect(resolveWorkerCommand(undefined, env)).toEqual({
      command: join(venv, 'bin', 'midspec-worker'),
      args: [],
      source: 'PATH',
    });
    const trained = await run(
      join(app, 'node_modules', '.bin', 'midspec'),
      [
        'train',
        '--text',
        'documents.jsonl',
        '--chat',
        'chats.jsonl',
        '--max-steps',
        '2',
        '--max-length',
        '128',
        '--json',
      ],
      { cwd: app, env },
    );
    const result = JSON.parse(trained.stdout) as {
      state: string;
      stages: Array<{ name: string; steps: number; finalLoss: number }>;
      checkpoint: string;
    };
    expect(result.state).toBe('succeeded');
    expect(result.stages.map((stage) => [stage.name, stage.steps])).toEqual([
      ['midtrain', 2],
      ['sft', 2],
    ]);
    expect(Number.isFinite(result.stages[1]?.finalLoss)).toBe(true);
    // The local worker's data (and so the checkpoint) lives in the clean folder.
    expect(result.checkpoint.startsWith(join(app, '.midspec', 'worker'))).toBe(true);
    expect(trained.stderr).not.toContain(root);
    console.log(
      `install ${((installed - started) / 1000).toFixed(1)} s, train ${((Date.now() - installed) / 1000).toFixed(1)} s`,
    );
  }, 300_000);
});
