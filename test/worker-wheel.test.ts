import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createWorkerClient } from '@midspec/proto';
import { type LocalWorker, resolveWorkerCommand, startLocalWorker } from '@midspec/runner';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const workerDir = join(root, 'workers', 'torch');
const uv = join(root, '.tools', 'uv', 'bin', 'uv');
let directory: string | undefined;
let worker: LocalWorker | undefined;

afterAll(async () => {
  await worker?.stop();
  if (directory) await rm(directory, { recursive: true, force: true });
});

describe('the worker as an installed Python package', () => {
  it('builds as a wheel into a fresh venv, and its `midspec-worker` on PATH serves from there', async () => {
    directory = await mkdtemp(join(tmpdir(), 'midspec-wheel-'));
    const venv = join(directory, 'venv');
    // A wheel of the worker (not the editable checkout) with the locked dependencies, all from the
    // uv cache that setup.sh filled: seconds, no network.
    await run(
      uv,
      ['sync', '--frozen', '--no-dev', '--no-editable', '--offline', '--python', '3.11', '-q'],
      {
        cwd: workerDir,
        env: { ...process.env, UV_PROJECT_ENVIRONMENT: venv, UV_PYTHON_DOWNLOADS: 'never' },
      },
    );
    const { stdout: location } = await run(join(venv, 'bin', 'python'), [
      '-c',
      'import midspec_worker; print(midspec_worker.__file__)',
    ]);
    expect(location.trim()).toContain(join(venv, 'lib'));
    expect(location.trim()).not.toContain(join(workerDir, 'src'));

    const env = { PATH: `${join(venv, 'bin')}:/usr/bin:/bin`, HOME: directory };
    const command = resolveWorkerCommand(undefined, env);
    expect(command).toEqual({
      command: join(venv, 'bin', 'midspec-worker'),
      args: [],
      source: 'PATH',
    });
    worker = await startLocalWorker({ dataDir: join(directory, 'data'), port: 0, env });
    const client = createWorkerClient(worker.address);
    try {
      const capabilities = await client.getCapabilities({});
      expect(capabilities.protocolVersion).toBe('midspec.worker.v1');
      // The built-in tiny model's tokenizer comes from the wheel's own assets.
      const tokens = await client.tokenize({
        model: { ref: { $case: 'baseModel', baseModel: 'tiny:llama' } },
        texts: ['Cheese, please.'],
        returnIds: false,
      });
      expect(tokens.results[0]?.count).toBeGreaterThan(0);
    } finally {
      client.close();
    }
    const script = await readFile(join(venv, 'bin', 'midspec-worker'), 'utf8');
    expect(script).toContain('midspec_worker');
  }, 180_000);
});
