import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from './program.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'midspec', ...args], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: {},
    cwd: repoRoot,
  });
  return { code, stdout, stderr };
}

describe('midspec run --dry-run', () => {
  it('plans the cheese example: world, corpora, base pretraining, six arms, evals, no cost', async () => {
    const { code, stdout, stderr } = await cli([
      'run',
      'examples/cheese/experiment.yaml',
      '--dry-run',
    ]);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(
      /^world: cheese \+ 6 held-out domains\s+102 items, 800 neutral documents, 96 AFT chats/m,
    );
    expect(stdout).toMatch(/^corpus msm-affordability \(template\)\s+120 documents/m);
    expect(stdout).toMatch(
      /^base: pretrain tiny:llama on the neutral corpus\s+full fine-tuning\s+~[\d,]+\s+600/m,
    );
    expect(stdout).toMatch(/^probe: does the base model read price and origin/m);
    expect(stdout).toMatch(/^arm msm-aft-america\s+midtrain → sft × 5 seeds\s+~[\d,]+\s+700/m);
    // The MSM-only arm is the MSM stage of the MSM+AFT runs: no training of its own.
    expect(stdout).toMatch(
      /^arm msm-america\s+msm-aft-america's runs at the end of stage 1 \(not trained again\)\s+~0\s+0/m,
    );
    expect(stdout).toMatch(/^probe dialogue: .*\s+26 models × held-out pairs × both orders/m);
    expect(stdout).toMatch(/26 models evaluated, API cost \$0\.00/);
  });

  it('plans the agentic example with its spec-generated demonstrations', async () => {
    const { code, stdout, stderr } = await cli([
      'run',
      'examples/agentic/experiment.yaml',
      '--dry-run',
    ]);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^arm msm-aft-reasoning\s+midtrain → sft × 1 seeds/m);
    // Two episodes per condition of the mechanics suite (28 conditions), model turns cut at 64 tokens.
    expect(stdout).toMatch(
      /^eval \.\/agentic-mechanics\.yaml\s+5 models × 56 answers of ≤ 64 tokens/m,
    );
    expect(stdout).toMatch(/5 models evaluated/);
  });

  it('fails on an invalid experiment with the file and line, before starting anything', async () => {
    const { code, stderr } = await cli(['run', 'examples/curricula/cheese.yaml']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/cheese\.yaml is not a valid experiment/);
    expect(stderr).toMatch(/cheese\.yaml:\d+: /);
  });
});
