import { fileURLToPath } from 'node:url';
import {
  createWorkerClient,
  LoraConfig,
  LossMask,
  StageKind,
  type WorkerClient,
} from '@midspec/proto';
import { type FakeWorker, startFakeWorker } from '@midspec/worker-testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadTrainingExperiment } from './load-experiment.js';
import { planTrainingExperiment } from './plan-experiment.js';
import { findPlannedRuns, submitExperiment } from './submit-runs.js';
import { TrainerError } from './trainer-error.js';

const cheese = fileURLToPath(new URL('../../../examples/curricula/cheese.yaml', import.meta.url));
let worker: FakeWorker;
let client: WorkerClient;

beforeEach(async () => {
  worker = await startFakeWorker({ stepMs: 1000 });
  client = createWorkerClient(worker.address);
});

afterEach(async () => {
  client.close();
  await worker.close();
});

describe('submitExperiment', () => {
  it('uploads shared data once and submits every training run; a second submission creates nothing', async () => {
    const plan = await planTrainingExperiment(await loadTrainingExperiment(cheese));
    const uploaded: boolean[] = [];
    const first = await submitExperiment(client, plan, {
      onUploaded: (_dataset, result) => uploaded.push(result.alreadyExisted),
    });
    expect(uploaded).toEqual([false, false, false]);
    expect(first).toHaveLength(15);
    expect(first.every((entry) => !entry.alreadyExisted)).toBe(true);
    expect(worker.runs.size).toBe(15);

    // As after a crash: the same experiment again.
    const again = await submitExperiment(
      client,
      await planTrainingExperiment(await loadTrainingExperiment(cheese)),
    );
    expect(again.every((entry) => entry.alreadyExisted)).toBe(true);
    expect(again.map((entry) => entry.run.id)).toEqual(first.map((entry) => entry.run.id));
    expect(worker.runs.size).toBe(15);

    const found = await findPlannedRuns(client, plan);
    expect(found.size).toBe(15);
    expect(found.get('cheese/msm-aft-america/seed-2')?.spec?.labels.arm).toBe('msm-aft-america');
  });

  it('retries a submission whose response was lost without creating a duplicate', async () => {
    const plan = await planTrainingExperiment(await loadTrainingExperiment(cheese));
    worker.faults.loseSubmitResponses = 2;
    const submitted = await submitExperiment(client, plan);
    expect(submitted).toHaveLength(15);
    expect(worker.runs.size).toBe(15);
    expect(worker.submitCalls).toBe(17);
    expect(submitted.slice(0, 1).every((entry) => entry.alreadyExisted)).toBe(true);
  });

  it('refuses, before any upload, what the worker cannot do', async () => {
    worker.capabilities.supportsLora = false;
    worker.capabilities.maxSequenceLength = 128;
    worker.capabilities.lossMasks = [1];
    const plan = await planTrainingExperiment(await loadTrainingExperiment(cheese));
    // The file leaves adapter and loss mask to the worker's defaults; ask for them explicitly.
    const stage = plan.runs
      .flatMap((run) => run.spec.stages)
      .find((each) => each.kind === StageKind.STAGE_KIND_SFT);
    if (!stage) throw new Error('the cheese experiment has an sft stage');
    stage.adapter = { adapter: { $case: 'lora', lora: LoraConfig.fromPartial({ r: 8 }) } };
    stage.lossMask = LossMask.LOSS_MASK_ASSISTANT_ONLY;
    const error = (await submitExperiment(client, plan).catch(
      (caught: unknown) => caught,
    )) as TrainerError;
    expect(TrainerError.isInstance(error)).toBe(true);
    expect(error.code).toBe('trainer/unsupported');
    const messages = error.problems.map((problem) => problem.message);
    expect(messages).toContain('the worker does not support LoRA adapters');
    expect(messages).toContain("256 tokens is more than the worker's maximum sequence length 128");
    expect(messages).toContain('the worker does not support the loss mask assistant_only');
    expect(worker.uploadCalls).toBe(0);
    expect(worker.runs.size).toBe(0);
  });
});
