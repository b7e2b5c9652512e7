// Training throughput on the CPU: the Python worker's packed loop against a plain transformers
// Trainer with padding (same tiny model, documents, epoch and optimizer steps), plus the packing
// efficiency. The measuring is done by bench/train/bench.py in the worker's virtual environment.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const python = join(root, 'workers', 'torch', '.venv', 'bin', 'python');

function run(args, log) {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [join(root, 'bench', 'train', 'bench.py'), ...args], {
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
      for (const line of lines) if (line.startsWith('[bench/train]')) log(line.slice(14));
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
  const documents = process.env.BENCH_TRAIN_DOCUMENTS ?? '600';
  const result = await run(['--documents', documents], log);
  log(`machine: ${result.machine}; ${result.documents} documents, ${result.tokens} tokens`);
  return [
    {
      name: 'training tokens/s (packed loop, tiny:llama LoRA, CPU)',
      value: result.ours.tokens_per_second,
      unit: 'tokens/s',
      baseline: { name: 'transformers Trainer, padded', value: result.trainer.tokens_per_second },
      target: '≥ 1.5× Trainer',
    },
    {
      name: 'share of real tokens in computed rows',
      value: result.ours.packing_efficiency * 100,
      unit: '%',
      baseline: { name: 'padding to the longest', value: result.trainer.padding_efficiency * 100 },
      target: '≥ 98 %',
    },
  ];
}
