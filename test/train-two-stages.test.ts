import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type RunEvent, RunState, StageKind, WorkerError } from '@midspec/proto';
import { TrainerError, uploadDataset } from '@midspec/trainer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  repoRoot,
  startWorkerFixture,
  type WorkerFixture,
  workerPython,
} from './worker-fixture.js';

const run = promisify(execFile);
let fixture: WorkerFixture;

beforeAll(async () => {
  fixture = await startWorkerFixture();
}, 180_000);

afterAll(async () => {
  await fixture?.close();
});

describe('TypeScript client ↔ Python worker over real gRPC', () => {
  it('trains a tiny model through midtrain then sft; the loss falls and the checkpoint generates', async () => {
    const { client } = fixture;
    const text = await uploadDataset(
      client,
      join(repoRoot, 'examples/quickstart/documents.jsonl'),
      {
        format: 'text',
      },
    );
    const chat = await uploadDataset(client, join(repoRoot, 'examples/quickstart/chats.jsonl'), {
      format: 'chat',
    });
    expect(text.dataset.numRecords).toBe(40);
    expect(chat.dataset.numRecords).toBe(20);

    const again = await uploadDataset(client, join(repoRoot, 'examples/quickstart/chats.jsonl'));
    expect(again.alreadyExisted).toBe(true);
    expect(again.dataset.id).toBe(chat.dataset.id);

    const stage = {
      optimizer: { learningRate: 3e-3 },
      budget: { epochs: 3 },
      packing: { enabled: true, maxLength: 256 },
      microBatchSize: 4,
      adapter: { adapter: { $case: 'lora' as const, lora: { r: 16, alpha: 32 } } },
    };
    const { run: submitted } = await client.submitRun({
      spec: {
        name: 'e2e',
        baseModel: 'tiny:llama',
        seed: 1,
        stages: [
          {
            ...stage,
            name: 'msm',
            kind: StageKind.STAGE_KIND_MIDTRAIN,
            data: [{ datasetId: text.dataset.id, weight: 1 }],
          },
          {
            ...stage,
            name: 'aft',
            kind: StageKind.STAGE_KIND_SFT,
            data: [{ datasetId: chat.dataset.id, weight: 1 }],
            continueAdapter: true,
          },
        ],
      },
    });
    expect(submitted).toBeDefined();
    const runId = submitted?.id ?? '';

    const events: RunEvent[] = [];
    for await (const event of client.watchRun({ runId })) {
      if (event.event?.$case !== 'heartbeat') events.push(event);
    }
    const seqs = events.map((event) => event.seq);
    expect(seqs).toEqual(seqs.map((_, index) => index + 1));

    const final = await client.getRun({ runId });
    expect(final.state).toBe(RunState.RUN_STATE_SUCCEEDED);

    const started = events.flatMap((event) =>
      event.event?.$case === 'stageStarted' ? [event.event.stageStarted] : [],
    );
    const metrics = events.flatMap((event) =>
      event.event?.$case === 'metrics' ? [event.event.metrics] : [],
    );
    expect(started.map((stage) => stage.name)).toEqual(['msm', 'aft']);
    for (const [index, stageStarted] of started.entries()) {
      const stageMetrics = metrics.filter((metric) => metric.stageIndex === index);
      expect(stageMetrics.length).toBe(stageStarted.totalSteps);
      const last = stageMetrics.at(-1);
      expect(last?.loss).toBeLessThan(stageStarted.initialLoss);
      expect(
        stageMetrics.every((metric) => metric.tokensPerSecond > 0 && metric.learningRate > 0),
      ).toBe(true);
    }

    // A watch resumed from the middle returns exactly the tail.
    const middle = Math.floor(events.length / 2);
    const tail: number[] = [];
    for await (const event of client.watchRun({ runId, afterSeq: middle })) {
      if (event.event?.$case !== 'heartbeat') tail.push(event.seq);
    }
    expect(tail).toEqual(seqs.slice(middle));

    const { checkpoints } = await client.listCheckpoints({ runId });
    const finalCheckpoint = checkpoints.find((checkpoint) => checkpoint.final);
    expect(finalCheckpoint?.localPath).toBeTruthy();

    const script = [
      'import sys, torch',
      'from transformers import AutoModelForCausalLM, AutoTokenizer',
      'path = sys.argv[1]',
      'model = AutoModelForCausalLM.from_pretrained(path)',
      'tokenizer = AutoTokenizer.from_pretrained(path)',
      'ids = tokenizer("The assistant", return_tensors="pt").input_ids',
      'out = model.generate(ids, max_new_tokens=12, do_sample=False)',
      'assert out.shape[1] > ids.shape[1], out.shape',
      'print(tokenizer.decode(out[0][ids.shape[1]:]))',
    ].join('\n');
    const generated = await run(workerPython, ['-c', script, finalCheckpoint?.localPath ?? ''], {
      timeout: 120_000,
    });
    expect(generated.stdout.trim().length).toBeGreaterThan(0);
  }, 600_000);

  it('refuses a run naming an unknown dataset with NOT_FOUND and keeps serving', async () => {
    const error = await fixture.client
      .submitRun({
        spec: {
          baseModel: 'tiny:llama',
          stages: [
            {
              kind: StageKind.STAGE_KIND_MIDTRAIN,
              data: [{ datasetId: 'f'.repeat(64), weight: 1 }],
            },
          ],
        },
      })
      .catch((caught: unknown) => caught);
    expect(WorkerError.isInstance(error) && error.grpcStatus).toBe('NOT_FOUND');
    expect(WorkerError.isInstance(error) && error.isRetryable).toBe(false);
    const capabilities = await fixture.client.getCapabilities();
    expect(capabilities.builtinModels).toContain('tiny:llama');
  });

  it('rejects a malformed JSONL upload naming the line, and stores nothing', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'midspec-bad-'));
    const file = join(dir, 'bad.jsonl');
    await writeFile(file, '{"text": "fine"}\n{"text": "also fine"}\n{"text": 42}\n');
    // Lines are checked once, by the worker; its refusal names the local file and line.
    const error = await uploadDataset(fixture.client, file).catch((caught: unknown) => caught);
    expect(TrainerError.isInstance(error) && error.problems).toEqual([
      { path: '', file, line: 3, message: 'expected a non-empty string field "text"' },
    ]);
    const cause = (error as Error).cause;
    expect(WorkerError.isInstance(cause) && cause.grpcStatus).toBe('INVALID_ARGUMENT');
    expect(WorkerError.isInstance(cause) && cause.line).toBe(3);
    const { datasets } = await fixture.client.listDatasets();
    expect(datasets.some((dataset) => dataset.name === 'bad.jsonl')).toBe(false);
  });
});
