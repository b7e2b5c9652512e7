// Training throughput on the CPU: the Python worker's packed loop against a plain transformers
// Trainer with padding (same tiny model, documents, epoch and optimizer steps), plus the packing
// efficiency. The measuring is done by bench/train/bench.py in the worker's virtual environment.
import { runWorkerScript } from '../worker-script.mjs';

export default async function bench({ log }) {
  const documents = process.env.BENCH_TRAIN_DOCUMENTS ?? '600';
  const result = await runWorkerScript('train', ['--documents', documents], log);
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
