import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, workerPython } from './worker-fixture.js';

const bin = join(repoRoot, 'packages/cli/dist/bin.js');

/** Starts the Python worker on `port` (0: a free one) over `dataDir`; resolves with its port. */
async function startWorker(
  dataDir: string,
  port: number,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    workerPython,
    ['-m', 'midspec_worker', 'serve', '--port', String(port), '--data-dir', dataDir].concat([
      '--heartbeat-seconds',
      '0.5',
      '--max-restarts',
      '100',
    ]),
    { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, MIDSPEC_TORCH_THREADS: '1' } },
  );
  let stdout = '';
  const bound = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on \S+:(\d+)/.exec(stdout);
      if (match?.[1]) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}: ${stdout}`)));
  });
  return { child, port: bound };
}

function cli(args: string[]): {
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
} {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return {
    done: new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr }))),
  };
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe('midspec runs watch across worker restarts', () => {
  it('reconnects while the worker is killed and restarted three times, and sees the run finish', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'midspec-watch-'));
    const docs = join(dataDir, 'docs.jsonl');
    const lines = Array.from({ length: 40 }, (_, i) =>
      JSON.stringify({ text: `Rule ${i}: the assistant explains the value behind each rule.` }),
    );
    await writeFile(docs, `${lines.join('\n')}\n`);
    let worker = await startWorker(dataDir, 0);
    const address = `127.0.0.1:${worker.port}`;
    try {
      const submitted = await cli(
        ['train', '--worker', address, '--text', docs, '--model', 'tiny:llama'].concat([
          '--max-steps',
          '40',
          '--detach',
        ]),
      ).done;
      expect(submitted.code, submitted.stderr).toBe(0);
      const runId = submitted.stdout.trim();
      const watch = cli(['runs', 'watch', runId, '--worker', address]);
      for (let restart = 0; restart < 3; restart += 1) {
        await new Promise((resolve) => setTimeout(resolve, 2500));
        await kill(worker.child);
        await new Promise((resolve) => setTimeout(resolve, 1000)); // down for a while
        worker = await startWorker(dataDir, worker.port);
      }
      const watched = await watch.done;
      expect(watched.code, watched.stderr).toBe(0);
      expect(watched.stdout).toContain(`run ${runId} succeeded`);
      expect(watched.stderr).toContain('reconnecting after event');
    } finally {
      await kill(worker.child);
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 300_000);
});
