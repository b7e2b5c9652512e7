#!/usr/bin/env node
// A stand-in training command for the demo and the tests: it reads the run file the worker wrote,
// "trains" each stage by printing decreasing losses in the JSON-lines progress protocol, and writes
// a checkpoint folder per stage. Replace it with a command that submits a real job.
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const run = JSON.parse(readFileSync(process.env.MIDSPEC_RUN_FILE ?? 'run.json', 'utf8'));
const stepMs = Number(process.env.FAKE_TRAINER_STEP_MS ?? 20);
const emit = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

process.on('SIGTERM', () => {
  // A real trainer saves a checkpoint at the step boundary here before exiting.
  process.exit(143);
});

const stages = run.spec.stages ?? [];
let loss = 4;
for (const [stage, spec] of stages.entries()) {
  const bytes = (spec.data ?? []).reduce(
    (sum, source) => sum + statSync(run.datasets[source.datasetId]).size,
    0,
  );
  const totalSteps = spec.budget?.maxSteps || 8;
  emit({
    event: 'stage-started',
    stage,
    name: spec.name,
    totalSteps,
    numTokens: Math.ceil(bytes / 4),
    initialLoss: loss,
  });
  for (let step = 1; step <= totalSteps; step += 1) {
    await sleep(stepMs);
    loss = loss * 0.9 + 0.05;
    emit({
      event: 'metrics',
      stage,
      step,
      totalSteps,
      loss,
      learningRate: spec.optimizer?.learningRate ?? 1e-4,
    });
  }
  const path = `checkpoints/stage-${stage}`;
  mkdirSync(path, { recursive: true });
  writeFileSync(
    `${path}/adapter_config.json`,
    JSON.stringify({ base_model: run.spec.baseModel, stage }),
  );
  writeFileSync(`${path}/adapter_model.json`, JSON.stringify({ fake_weights: [loss, stage] }));
  emit({
    event: 'checkpoint-saved',
    stage,
    step: totalSteps,
    path,
    final: stage === stages.length - 1,
  });
  emit({ event: 'stage-finished', stage, finalLoss: loss });
}
