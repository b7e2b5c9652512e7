// FSDP2 memory on the CPU (gloo): per-rank bytes of parameters + gradients + optimizer state of a
// ~110M-parameter Llama-architecture model at 2 ranks against 1 rank, and the two loss curves.
// The measuring is done by bench/fsdp/bench.py (torchrun) in the worker's virtual environment.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const python = join(root, 'workers', 'torch', '.venv', 'bin', 'python');

function run(args, log) {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [join(root, 'bench', 'fsdp', 'bench.py'), ...args], {
      env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_VERBOSITY: 'error' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    let pending = '';
    child.stderr.on('data', (chunk) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.startsWith('[bench/fsdp]')) log(line.slice(13));
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) {
        reject(new Error(`bench.py exited with code ${code}`));
        return;
      }
      resolve(JSON.parse(last));
    });
  });
}

export default async function bench({ log }) {
  if (!existsSync(python)) {
    throw new Error(`no worker virtual environment at ${python}: run uv sync in workers/torch`);
  }
  const result = await run(['--steps', process.env.BENCH_FSDP_STEPS ?? '4'], log);
  log(`machine: ${result.machine}; ${(result.parameters / 1e6).toFixed(1)}M parameters`);
  const peak = Math.max(...result.two_ranks.map((rank) => rank.total_bytes));
  return [
    {
      name: 'params+grads+optimizer per rank, 2 ranks (MiB)',
      value: peak / 2 ** 20,
      unit: 'MiB',
      baseline: { name: '1 rank', value: result.one_rank.total_bytes / 2 ** 20 },
      target: '≤ 0.6× (aim 0.55×)',
    },
    {
      name: 'largest loss difference, 2 ranks vs 1, over the steps',
      value: result.max_loss_difference,
      unit: '',
      target: '< 1e-4',
    },
  ];
}
