// FSDP2 memory on the CPU (gloo): per-rank bytes of parameters + gradients + optimizer state of a
// ~110M-parameter Llama-architecture model at 2 ranks against 1 rank, and the two loss curves.
// The measuring is done by bench/fsdp/bench.py (torchrun) in the worker's virtual environment.
import { runWorkerScript } from '../worker-script.mjs';

export default async function bench({ log }) {
  const result = await runWorkerScript(
    'fsdp',
    ['--steps', process.env.BENCH_FSDP_STEPS ?? '4'],
    log,
  );
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
