import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createWorkerClient, DatasetFormat, type WorkerClient } from '@midspec/proto';
import { type FakeWorker, startFakeWorker } from '@midspec/worker-testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TrainerError } from './trainer-error.js';
import { type UploadProgress, uploadDataset } from './upload-dataset.js';

let worker: FakeWorker;
let client: WorkerClient;
let dir: string;

beforeEach(async () => {
  worker = await startFakeWorker();
  client = createWorkerClient(worker.address);
  dir = await mkdtemp(join(tmpdir(), 'midspec-upload-'));
});

afterEach(async () => {
  client.close();
  await worker.close();
});

async function textFile(lines: number, name = 'docs.jsonl'): Promise<string> {
  const path = join(dir, name);
  const body = Array.from({ length: lines }, (_, index) =>
    JSON.stringify({ text: `document ${index} ${'x'.repeat(1000)}` }),
  ).join('\n');
  await writeFile(path, `${body}\n`);
  return path;
}

describe('uploadDataset', () => {
  it('hashes, detects the format, streams with progress, and skips content the worker holds', async () => {
    const path = await textFile(3000);
    const progress: UploadProgress[] = [];
    const first = await uploadDataset(client, path, {
      onProgress: (update) => progress.push(update),
    });
    expect(first.alreadyExisted).toBe(false);
    expect(first.dataset.numRecords).toBe(3000);
    expect(first.dataset.format).toBe(DatasetFormat.DATASET_FORMAT_TEXT);
    // Lines are checked once, by the worker: the client only hashed.
    expect(first.validation).toBeUndefined();
    expect(progress.some((update) => update.phase === 'hashing')).toBe(true);
    expect(progress.some((update) => update.phase === 'validating')).toBe(false);
    const uploads = progress.filter((update) => update.phase === 'uploading');
    expect(uploads.length).toBeGreaterThan(1);
    expect(uploads.at(-1)?.bytes).toBe(first.dataset.sizeBytes);

    const sent = worker.uploadedBytes;
    const second = await uploadDataset(client, path);
    expect(second.alreadyExisted).toBe(true);
    expect(second.dataset.id).toBe(first.dataset.id);
    expect(worker.uploadedBytes).toBe(sent);
  });

  it('resumes from the worker offset after the connection drops mid-way', async () => {
    const path = await textFile(4000);
    worker.faults.dropUploads = 2;
    worker.faults.dropUploadAfterBytes = 1024 * 1024;
    const retries: number[] = [];
    const uploaded = await uploadDataset(client, path, {
      onRetry: ({ offset }) => retries.push(offset),
    });
    expect(retries).toHaveLength(2);
    expect(uploaded.resumedFrom).toBeGreaterThan(0);
    expect(uploaded.dataset.sizeBytes).toBeGreaterThan(3 * 1024 * 1024);
    // Resumed, not restarted: nothing much beyond the file was sent.
    expect(worker.uploadedBytes).toBeLessThan(uploaded.dataset.sizeBytes + 3 * 1024 * 1024);
  });

  it('fails with the file and line of the first line the worker refuses, while still sending', async () => {
    // 48 MiB of good lines after the bad second one: the worker refuses line 2 from the first
    // chunk, and the client stops reading the file before its end. (Client and fake worker share
    // one event loop, so how far the client got first varies; that it stops does not.)
    const path = join(dir, 'bad-early.jsonl');
    const good = `${JSON.stringify({ text: 'x'.repeat(1000) })}\n`.repeat(48 * 1024);
    await writeFile(path, `{"text": "a"}\n{"text": 1}\n${good}`);
    const progress: UploadProgress[] = [];
    const sent = () => progress.filter((update) => update.phase === 'uploading').at(-1)?.bytes ?? 0;
    const error = (await uploadDataset(client, path, {
      onProgress: (update) => progress.push(update),
    }).catch((caught: unknown) => caught)) as TrainerError;
    const sentAtError = sent();
    expect(TrainerError.isInstance(error)).toBe(true);
    expect(error.code).toBe('trainer/invalid-dataset');
    expect(error.problems).toEqual([
      { path: '', file: path, line: 2, message: 'expected a non-empty string field "text"' },
    ]);
    expect(error.message).toContain(`${path}:2: expected a non-empty string field "text"`);
    await sleep(300);
    const total = progress[0]?.totalBytes ?? 0;
    expect(sentAtError).toBeLessThan(total);
    // At most the chunk in flight when the answer came; then nothing more is read or sent.
    expect(sent() - sentAtError).toBeLessThanOrEqual(1024 * 1024);
    expect(sent()).toBeLessThan(total);
    expect(worker.uploadCalls).toBe(1);
  });

  it('with validate, refuses a bad file before contacting the worker, naming every bad line', async () => {
    const path = join(dir, 'bad.jsonl');
    await writeFile(path, '{"text": "a"}\n{"text": 1}\n{"text": "b"}\n{"txt": "c"}\n');
    const error = (await uploadDataset(client, path, { validate: true }).catch(
      (caught: unknown) => caught,
    )) as TrainerError;
    expect(TrainerError.isInstance(error)).toBe(true);
    expect(error.problems.map((problem) => problem.line)).toEqual([2, 4]);
    expect(error.message).toContain(`${path}:2`);
    expect(worker.uploadCalls).toBe(0);
  });

  it('refuses a file that is neither text nor chat', async () => {
    const path = join(dir, 'neither.jsonl');
    await writeFile(path, '{"prompt": "a"}\n');
    const error = (await uploadDataset(client, path).catch(
      (caught: unknown) => caught,
    )) as TrainerError;
    expect(error.message).toContain('neither a text dataset');
    expect(error.problems[0]?.line).toBe(1);
    expect(worker.uploadCalls).toBe(0);
  });

  it('names a missing file', async () => {
    const error = (await uploadDataset(client, join(dir, 'nope.jsonl')).catch(
      (caught: unknown) => caught,
    )) as TrainerError;
    expect(error.message).toContain('cannot read dataset');
  });
});
