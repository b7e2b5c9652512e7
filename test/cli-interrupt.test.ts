import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, workerPython } from './worker-fixture.js';

// Ctrl-C in the middle of `midspec run` (the built CLI, as a user runs it): one line, exit code
// 130, and the local worker it started (with its training child) gone.
const bin = join(repoRoot, 'packages/cli/dist/bin.js');

const experiment = (specs: string, evals: string) => `
name: interrupt-ci
seeds: [1]
base: { model: tiny:qwen3 }
specs: [{ name: safety, file: ${specs}/safety-values.md }]
corpus: { provider: template, config: { maxDocuments: 4 } }
stageDefaults:
  midtrain: { packing: { maxLength: 128 }, budget: { epochs: 100, maxSteps: 60 } }
arms:
  - { name: msm, stages: [{ name: msm, kind: midtrain, data: [msm-safety] }] }
evals: [{ file: ${evals}/agentic-misalignment.yaml, judge: worker:tiny:qwen3, epochs: 1, limit: 1, maxTokens: 16 }]
`;

/** Every process below `pid` (children of children too), from the process table. */
function descendants(pid: number): number[] {
  const table = execFileSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift() as number;
    for (const [child, ppid] of table)
      if (ppid === parent && !found.includes(child)) {
        found.push(child);
        queue.push(child);
      }
  }
  return found;
}

/** Alive and not a zombie waiting for a parent that will never reap it. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!existsSync(workerPython) || !existsSync(bin) || process.platform !== 'linux')(
  'midspec run: Ctrl-C',
  () => {
    it('stops cleanly: one line, exit code 130, no worker left', { timeout: 300_000 }, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'midspec-interrupt-'));
      dirs.push(dir);
      const file = join(dir, 'experiment.yaml');
      await writeFile(
        file,
        experiment(join(repoRoot, 'examples/specs'), join(repoRoot, 'examples/evals')),
      );
      const child = spawn(process.execPath, [bin, 'run', file, '--out', join(dir, 'out')], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, MIDSPEC_WORKER: '', MIDSPEC_TORCH_THREADS: '1' },
      });
      let stderr = '';
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      const exited = new Promise<number | null>((resolve) =>
        child.once('exit', (code) => resolve(code)),
      );
      let started: number[] = [];
      try {
        // Interrupt once the arm's training has made a step or two.
        await new Promise<void>((resolve, reject) => {
          child.stderr.on('data', (chunk: Buffer) => {
            stderr += chunk.toString();
            if (/seed-1 msm \d+%/.test(stderr)) resolve();
          });
          void exited.then((code) => reject(new Error(`exited early (${code}):\n${stderr}`)));
        });
        started = descendants(child.pid as number);
        // The worker and its training child, at least.
        expect(started.length, stderr).toBeGreaterThanOrEqual(2);
        child.kill('SIGINT');
        const code = await exited;
        const lines = stderr.trim().split('\n');
        expect(lines.at(-1), stderr).toBe(
          'interrupted — rerun the same command to resume (finished steps are cached)',
        );
        expect(code).toBe(130);
        expect(stderr).not.toMatch(/CANCELLED|error:/i);
        expect(stdout).toBe('');
        expect(started.filter(running)).toEqual([]);
      } finally {
        for (const pid of [child.pid as number, ...started])
          if (running(pid)) process.kill(pid, 'SIGKILL');
      }
    });
  },
);
