import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repositoryWorkerDir, resolveWorkerCommand } from './local-worker.js';
import { RunnerError } from './runner-error.js';

let directory: string;
let bin: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'midspec-worker-command-'));
  bin = join(directory, 'bin');
  await mkdir(bin);
  await writeFile(join(bin, 'midspec-worker'), '#!/bin/sh\n');
  await chmod(join(bin, 'midspec-worker'), 0o755);
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('resolveWorkerCommand', () => {
  it('takes an explicit Python first, then MIDSPEC_WORKER_PYTHON', () => {
    const env = { PATH: bin, MIDSPEC_WORKER_PYTHON: '/opt/py/bin/python' };
    expect(resolveWorkerCommand('/usr/bin/python3', env)).toEqual({
      command: '/usr/bin/python3',
      args: ['-m', 'midspec_worker'],
      source: 'option',
    });
    expect(resolveWorkerCommand(undefined, env)).toEqual({
      command: '/opt/py/bin/python',
      args: ['-m', 'midspec_worker'],
      source: 'MIDSPEC_WORKER_PYTHON',
    });
  });

  it('then the installed `midspec-worker` on PATH, before a checkout', () => {
    expect(resolveWorkerCommand(undefined, { PATH: `/nonexistent:${bin}` })).toEqual({
      command: join(bin, 'midspec-worker'),
      args: [],
      source: 'PATH',
    });
  });

  it('then the checkout environment, and otherwise says how to install the worker', () => {
    const found = (() => {
      try {
        return resolveWorkerCommand(undefined, { PATH: '/nonexistent' });
      } catch (error) {
        return error;
      }
    })();
    // This test runs in a checkout: setup.sh made workers/torch/.venv.
    if (repositoryWorkerDir()) expect(found).toMatchObject({ source: 'checkout' });
    else {
      expect(RunnerError.isInstance(found)).toBe(true);
      expect((found as Error).message).toContain('pip install midspec-worker');
    }
  });
});
