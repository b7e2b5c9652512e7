import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWorkerClient } from '@midspec/proto';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './worker-fixture.js';

const bin = join(repoRoot, 'packages/cli/dist/bin.js');

describe('midspec worker start (the built CLI, as a user runs it)', () => {
  it('prints the address, serves, and stops cleanly on SIGTERM', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'midspec-cli-'));
    const child = spawn(
      process.execPath,
      [bin, 'worker', 'start', '--port', '0', '--data-dir', dataDir],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      let stdout = '';
      const address = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          const match = /listening on (\S+)/.exec(stdout);
          if (match?.[1]) resolve(match[1]);
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${stdout}`)));
      });
      const client = createWorkerClient(address);
      const capabilities = await client.getCapabilities({}, { timeoutMs: 10_000 });
      client.close();
      expect(capabilities.workerName).toBeTruthy();

      const exited = new Promise<number | null>((resolve) =>
        child.once('exit', (code) => resolve(code)),
      );
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 180_000);

  it('explains a missing worker address instead of printing a stack trace', async () => {
    const child = spawn(process.execPath, [bin, 'runs', 'list'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MIDSPEC_WORKER: '' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    // A usage error: exit 2, the reason and a one-line hint.
    expect(code).toBe(2);
    expect(stderr).toContain('--worker HOST:PORT');
    expect(stderr).toContain('MIDSPEC_WORKER');
    expect(stderr).not.toContain('    at ');
  });
});
