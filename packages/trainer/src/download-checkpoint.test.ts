import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWorkerClient, type WorkerClient } from '@midspec/proto';
import { type FakeWorker, fakeCheckpointFiles, startFakeWorker } from '@midspec/worker-testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadCheckpoint, listCheckpoints } from './download-checkpoint.js';
import { submitRun } from './submit-runs.js';
import { TrainerError } from './trainer-error.js';
import { waitForRun } from './watch-run.js';

let worker: FakeWorker;
let client: WorkerClient;
let runId: string;

beforeEach(async () => {
  worker = await startFakeWorker({ stepMs: 1 });
  client = createWorkerClient(worker.address);
  const { run } = await submitRun(client, {
    name: 'd',
    baseModel: 'tiny:llama',
    stages: [{ name: 's', kind: 1, data: [] }],
  } as never);
  runId = run.id;
  await waitForRun(client, runId);
});

afterEach(async () => {
  client.close();
  await worker.close();
});

describe('checkpoints', () => {
  it('lists and downloads a checkpoint to disk, verifying every file', async () => {
    const checkpoints = await listCheckpoints(client, runId);
    expect(checkpoints.map((checkpoint) => checkpoint.id)).toEqual(['final']);
    const directory = await mkdtemp(join(tmpdir(), 'midspec-download-'));
    const progress: number[] = [];
    const downloaded = await downloadCheckpoint(client, runId, directory, {
      checkpointId: 'final',
      onProgress: ({ bytes }) => progress.push(bytes),
    });
    expect(downloaded.files.map((file) => file.path)).toEqual([
      'adapter_config.json',
      'weights/adapter_model.safetensors',
      'empty.txt',
    ]);
    for (const file of fakeCheckpointFiles(runId, 'final'))
      expect(await readFile(join(directory, file.path))).toEqual(file.data);
    expect(progress.at(-1)).toBe(
      fakeCheckpointFiles(runId, 'final').reduce((sum, file) => sum + file.data.length, 0),
    );
  });

  it('refuses bytes that do not match the manifest and leaves nothing behind', async () => {
    worker.faults.corruptCheckpoints = true;
    const directory = await mkdtemp(join(tmpdir(), 'midspec-download-'));
    const error = (await downloadCheckpoint(client, runId, directory).catch(
      (caught: unknown) => caught,
    )) as TrainerError;
    expect(TrainerError.isInstance(error)).toBe(true);
    expect(error.message).toContain('does not match the manifest');
    expect(await readdir(directory)).toEqual([]);
  });
});
