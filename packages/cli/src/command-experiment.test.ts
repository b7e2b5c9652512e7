import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from './program.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

async function cli(...argv: string[]) {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  err.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await runCli(['node', 'midspec', ...argv], {
    stdout: out,
    stderr: err,
    env: { MIDSPEC_WORKER: '' },
    cwd: repoRoot,
  });
  return { code, stdout, stderr };
}

describe('midspec experiment plan', () => {
  it('prints the expanded runs as JSON without a worker', async () => {
    const { code, stdout } = await cli(
      'experiment',
      'plan',
      'examples/curricula/cheese.yaml',
      '--json',
    );
    expect(code).toBe(0);
    const plan = JSON.parse(stdout) as {
      runs: {
        name: string;
        arm: string;
        seed: number;
        trains: boolean;
        idempotencyKey: string;
        stages: { kind: string }[];
      }[];
    };
    expect(plan.runs).toHaveLength(18);
    expect(
      plan.runs.find((run) => run.name === 'cheese/msm-aft-affordability/seed-3'),
    ).toMatchObject({
      arm: 'msm-aft-affordability',
      seed: 3,
      trains: true,
      idempotencyKey: expect.stringMatching(/^msk1-[0-9a-f]{48}$/),
      stages: [
        expect.objectContaining({ kind: 'midtrain' }),
        expect.objectContaining({ kind: 'sft', continueAdapter: true }),
      ],
    });
  });

  it('prints a table of datasets and runs', async () => {
    const { code, stdout } = await cli('experiment', 'plan', 'examples/curricula/agentic.yaml');
    expect(code).toBe(0);
    expect(stdout).toContain('aft-reasoning');
    expect(stdout).toMatch(
      /agentic\/msm-aft-reasoning\/seed-1\s+msm-aft-reasoning\s+1\s+msm\(spec-documents\) → aft\(aft-reasoning\)/,
    );
    expect(stdout).toContain('(base model, not trained)');
  });

  it('plans the cheese study (the `midspec run` format) as `run --dry-run` does', async () => {
    const table = await cli('experiment', 'plan', 'examples/cheese/experiment.yaml');
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^arm msm-aft-america\s+midtrain → sft × \d+ seeds/m);
    const models = Number(/(\d+) models evaluated, API cost \$0\.00/.exec(table.stdout)?.[1]);
    expect(models).toBeGreaterThan(0);
    const json = await cli('experiment', 'plan', 'examples/cheese/experiment.yaml', '--json');
    expect(json.code, json.stderr).toBe(0);
    const plan = JSON.parse(json.stdout) as { lines: { step: string }[]; evaluatedModels: number };
    expect(plan.evaluatedModels).toBe(models);
    expect(plan.lines.map((line) => line.step)).toContain('corpus:msm-america');
    // Calling a command with the other format's file is a usage error: exit 2.
    const submit = await cli('experiment', 'submit', 'examples/cheese/experiment.yaml');
    expect(submit.code).toBe(2);
    expect(submit.stderr).toContain('midspec run examples/cheese/experiment.yaml');
  });

  it('lists every problem of a bad experiment with file and line, without a stack trace', async () => {
    const { code, stderr } = await cli('experiment', 'plan', 'packages/cli/src/__missing__.yaml');
    expect(code).toBe(1);
    expect(stderr).toContain('cannot read');
    expect(stderr).not.toContain('    at ');
  });

  it('asks for a worker address to submit', async () => {
    const { code, stderr } = await cli('experiment', 'submit', 'examples/curricula/cheese.yaml');
    expect(code).toBe(2);
    expect(stderr).toContain('--worker HOST:PORT');
  });
});
