// Training throughput on the CPU: the Python worker's loop against TRL's SFTTrainer (packing with
// best-fit-decreasing, padding-free, completion-only loss for chats), the primary baseline, and a
// plain transformers Trainer that pads (context). bench/train/bench.py measures, in the worker's
// virtual environment, several interleaved repeats; each row shows the repeat with the median ratio.
import { runWorkerScript } from '../worker-script.mjs';

const fixed = (value, digits = 2) => Number(value).toFixed(digits);

export default async function bench({ log }) {
  const documents = process.env.BENCH_TRAIN_DOCUMENTS ?? '300';
  const repeats = process.env.BENCH_TRAIN_REPEATS ?? '3';
  const result = await runWorkerScript(
    'train',
    ['--documents', documents, '--repeats', repeats],
    log,
  );
  log(`machine: ${result.machine}`);
  const rows = [];
  for (const [stage, entry] of Object.entries(result.stages)) {
    const ratios = entry.runs.map((run) => run.ratio);
    const sorted = [...ratios].sort((a, b) => a - b);
    const median = entry.runs[ratios.indexOf(sorted[Math.floor((sorted.length - 1) / 2)])];
    const loads = entry.runs.flatMap((run) => [...run.ours.load, ...run.trl.load]);
    log(
      `${stage} (${entry.model}, ${entry.documents} documents, ${entry.tokens} tokens): ours/TRL ` +
        `tokens/s min ${fixed(entry.ratio.min)}× median ${fixed(entry.ratio.median)}× max ` +
        `${fixed(entry.ratio.max)}× over ${ratios.length} repeats, load ` +
        `${fixed(Math.min(...loads), 1)}–${fixed(Math.max(...loads), 1)}`,
    );
    const finals = entry.runs.map((run) => run.ours.final_loss - run.trl.final_loss);
    log(
      `${stage}: final loss ours ${fixed(median.ours.final_loss, 4)} vs TRL ` +
        `${fixed(median.trl.final_loss, 4)} (largest difference ` +
        `${Math.max(...finals.map(Math.abs)).toExponential(1)}; initial→final drop ` +
        `${fixed(entry.initial_loss - median.ours.final_loss, 4)})`,
    );
    rows.push({
      name: `training tokens/s, ${stage} stage (${entry.model} LoRA, CPU, median of ${ratios.length})`,
      value: median.ours.tokens_per_second,
      unit: 'tokens/s',
      baseline: { name: 'TRL SFTTrainer, BFD + padding-free', value: median.trl.tokens_per_second },
      target: '≥ 1.2× TRL',
    });
    rows.push({
      name: `final loss, ${stage} stage (same documents and steps)`,
      value: median.ours.final_loss,
      unit: 'nats',
      baseline: { name: 'TRL SFTTrainer', value: median.trl.final_loss },
      target: '1.00× (same within noise)',
    });
    if (entry.padded) {
      rows.push({
        name: `training tokens/s, ${stage} stage (context)`,
        value: median.ours.tokens_per_second,
        unit: 'tokens/s',
        baseline: { name: 'transformers Trainer, padded', value: entry.padded.tokens_per_second },
        target: '≥ 1.5× Trainer',
      });
      rows.push({
        name: `share of real tokens in computed rows, ${stage} stage`,
        value: median.ours.packing_efficiency * 100,
        unit: '%',
        baseline: { name: 'padding to the longest', value: entry.padded.padding_efficiency * 100 },
        target: '≥ 98 %',
      });
    }
  }
  return rows;
}
