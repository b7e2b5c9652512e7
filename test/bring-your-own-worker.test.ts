import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createWorkerClient,
  DatasetFormat,
  RunState,
  StageKind,
  type WorkerClient,
  WorkerError,
} from '@midspec/proto';
import { waitForRun } from '@midspec/trainer';
import { formatConformanceTable, runConformance } from '@midspec/worker-testkit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type RunningWorker,
  startWorker,
} from '../examples/bring-your-own-worker/src/start-worker.js';

const fakeTrainer = fileURLToPath(
  new URL('../examples/bring-your-own-worker/scripts/fake-trainer.mjs', import.meta.url),
);
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(trainCommand = `node ${JSON.stringify(fakeTrainer)}`) {
  const dataDir = await mkdtemp(join(tmpdir(), 'midspec-byow-'));
  const worker: RunningWorker = await startWorker({
    dataDir,
    port: 0,
    trainCommand,
    heartbeatMs: 500,
  });
  const client: WorkerClient = createWorkerClient(worker.address);
  cleanups.push(async () => {
    client.close();
    await worker.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  return { worker, client };
}

async function upload(client: WorkerClient, data: Buffer, sizeBytes = data.length) {
  const sha256 = createHash('sha256').update(data).digest('hex');
  const header = {
    name: 'docs.jsonl',
    format: DatasetFormat.DATASET_FORMAT_TEXT,
    sha256,
    sizeBytes,
  };
  return client.uploadDataset([
    { part: { $case: 'header', header } },
    { part: { $case: 'chunk', chunk: data } },
  ]);
}

describe('the bring-your-own-worker example', () => {
  it('passes every contract check, download included; the semantic ones need inference', async () => {
    const { worker } = await start();
    const results = await runConformance(worker.address);
    const notPassed = results.filter((result) => result.status !== 'pass');
    // It serves no Sample/ScoreLogprobs/Tokenize, so nothing can show that its training learned:
    // the checks that score text before and after training fail, saying why.
    expect(
      notPassed.map((result) => result.id),
      formatConformanceTable(results),
    ).toEqual([
      'tokenize',
      'score',
      'sample',
      'midtrain-learns',
      'sft-assistant-only',
      'chained-adapter',
    ]);
    for (const result of notPassed) expect(result.detail).toContain('is not implemented');
  }, 120_000);

  it('keeps the bytes of a stream that ends early and fails it FAILED_PRECONDITION, retryable', async () => {
    const { client } = await start();
    const data = Buffer.from('{"text": "a document"}\n');
    const error = await upload(client, data, data.length + 5).catch((caught: unknown) => caught);
    expect(WorkerError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      grpcStatus: 'FAILED_PRECONDITION',
      reason: 'ERROR_REASON_BAD_STATE',
      isRetryable: true,
    });
    const sha256 = createHash('sha256').update(data).digest('hex');
    expect(await client.getUploadStatus({ sha256 })).toMatchObject({
      complete: false,
      receivedBytes: data.length,
    });
  });

  it('fails a run with the reason its training command reports', async () => {
    const { client } = await start(
      `echo '{"event": "error", "reason": "ERROR_REASON_INVALID_DATA", "message": "line 1: too short"}'; exit 3`,
    );
    const { dataset } = await upload(client, Buffer.from('{"text": "a document"}\n'));
    const { run } = await client.submitRun({
      spec: {
        baseModel: 'tiny:fake',
        stages: [
          { kind: StageKind.STAGE_KIND_MIDTRAIN, data: [{ datasetId: dataset?.id, weight: 1 }] },
        ],
      },
    });
    const finished = await waitForRun(client, run?.id ?? '');
    expect(finished.state).toBe(RunState.RUN_STATE_FAILED);
    expect(finished.error).toEqual({
      reason: 'ERROR_REASON_INVALID_DATA',
      message: 'line 1: too short',
      retryable: false,
    });
  });
});
