import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runCli } from '@midspec/cli';
import { RunState } from '@midspec/proto';
import { connectWorker, TrainerError } from '@midspec/trainer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startWorkerFixture, type WorkerFixture } from './worker-fixture.js';

let fixture: WorkerFixture;
let dir: string;

beforeAll(async () => {
  fixture = await startWorkerFixture();
  dir = await mkdtemp(join(tmpdir(), 'midspec-trainer-e2e-'));
}, 180_000);

afterAll(async () => {
  await fixture?.close();
  await rm(dir, { recursive: true, force: true });
});

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const capture = () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    return { stream, text: () => text };
  };
  const stdout = capture();
  const stderr = capture();
  const code = await runCli(['node', 'midspec', ...argv], {
    stdout: stdout.stream,
    stderr: stderr.stream,
    env: { ...process.env, MIDSPEC_WORKER: fixture.worker.address },
    cwd: dir,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

const quick =
  '{ packing: { maxLength: 64 }, budget: { maxSteps: 2 }, microBatchSize: 2, adapter: { type: lora, r: 4 } }';
const data = {
  documents: join(repoRoot, 'examples/quickstart/documents.jsonl'),
  chats: join(repoRoot, 'examples/quickstart/chats.jsonl'),
};

describe('@midspec/trainer and its CLI against the reference worker', () => {
  it('trains a curriculum file, and a second `train` follows the same run instead of starting another', async () => {
    const file = join(dir, 'curriculum.yaml');
    await writeFile(
      file,
      [
        'name: e2e-curriculum',
        'baseModel: tiny:llama',
        'datasets:',
        `  docs: { path: ${data.documents} }`,
        `  chats: { path: ${data.chats} }`,
        'stages:',
        `  - { name: msm, kind: midtrain, data: [docs], ${quick.slice(2, -2)} }`,
        `  - { name: aft, kind: sft, data: [chats], continueAdapter: true, ${quick.slice(2, -2)} }`,
      ].join('\n'),
    );
    const first = await cli('train', file);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/run \S+ succeeded/);
    expect(first.stdout).toMatch(/msm\s+loss/);
    const runId = /run (\S+) succeeded/.exec(first.stdout)?.[1];

    const second = await cli('train', file);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('already submitted with this exact curriculum');
    expect(second.stdout).toContain(`run ${runId} succeeded`);
    const { runs } = await fixture.client.listRuns({ labels: { experiment: 'e2e-curriculum' } });
    expect(runs).toHaveLength(1);

    const metrics = await cli('runs', 'metrics', runId ?? '', '--json');
    expect(JSON.parse(metrics.stdout)).toHaveLength(4);
  }, 300_000);

  it('plans, submits (twice, without duplicates), reports and watches an experiment', async () => {
    const file = join(dir, 'experiment.yaml');
    await writeFile(
      file,
      [
        'name: e2e-experiment',
        'baseModel: tiny:llama',
        'seeds: [1]',
        'datasets:',
        `  docs: { path: ${data.documents} }`,
        `  chats: { path: ${data.chats} }`,
        `stageDefaults: { midtrain: ${quick}, sft: ${quick} }`,
        'arms:',
        '  - { name: baseline, stages: [] }',
        '  - { name: msm, stages: [{ kind: midtrain, data: [docs] }] }',
        '  - name: msm-aft',
        '    stages: [{ kind: midtrain, data: [docs] }, { kind: sft, data: [chats], continueAdapter: true }]',
      ].join('\n'),
    );
    const plan = await cli('experiment', 'plan', file, '--json');
    expect(plan.code).toBe(0);
    const planned = JSON.parse(plan.stdout) as { runs: { name: string; idempotencyKey: string }[] };
    expect(planned.runs.map((run) => run.name)).toEqual([
      'e2e-experiment/baseline/seed-1',
      'e2e-experiment/msm/seed-1',
      'e2e-experiment/msm-aft/seed-1',
    ]);

    const submitted = await cli('experiment', 'submit', file);
    expect(submitted.code, submitted.stderr).toBe(0);
    expect(submitted.stdout.match(/ submitted$/gm)).toHaveLength(2);
    const again = await cli('experiment', 'submit', file);
    expect(again.stdout.match(/already submitted$/gm)).toHaveLength(2);
    const { runs } = await fixture.client.listRuns({ labels: { experiment: 'e2e-experiment' } });
    expect(runs).toHaveLength(2);
    expect(runs.map((run) => run.idempotencyKey).sort()).toEqual(
      planned.runs
        .slice(1)
        .map((run) => run.idempotencyKey)
        .sort(),
    );

    const watched = await cli('experiment', 'watch', file);
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stdout).toContain('2 of 2 runs succeeded');

    const status = await cli('experiment', 'status', file, '--json');
    const rows = JSON.parse(status.stdout) as { name: string; state: string }[];
    expect(rows.map((row) => row.state)).toEqual(['base model', 'succeeded', 'succeeded']);
  }, 600_000);

  it('refuses what the worker lacks before uploading anything', async () => {
    const docs = join(dir, 'fresh.jsonl');
    await writeFile(
      docs,
      '{"text": "content this worker has never seen, for the capability check"}\n',
    );
    const file = join(dir, 'big.yaml');
    await writeFile(
      file,
      `baseModel: tiny:llama\nworldSize: 64\nstages:\n  - { kind: midtrain, data: [fresh.jsonl], packing: { maxLength: 100000 } }\n`,
    );
    const result = await cli('train', file, '--worker', fixture.worker.address);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot train this; nothing was uploaded');
    expect(result.stderr).toContain('world size 64');
    expect(result.stderr).toContain('maximum sequence length');
    const { createHash } = await import('node:crypto');
    const { readFile } = await import('node:fs/promises');
    const sha256 = createHash('sha256')
      .update(await readFile(docs))
      .digest('hex');
    const status = await fixture.client.getUploadStatus({ sha256 });
    expect(status.complete).toBe(false);
    expect(Number(status.receivedBytes)).toBe(0);
  }, 120_000);

  it('lists every curriculum problem with its line, and names an unreachable worker', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      'baseModel: tiny:llama\nstages:\n  - kind: midtrain\n    data: []\n    budget: { epochs: -1 }\n',
    );
    const bad = await cli('train', file);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${file}:4: stages[0].data`);
    expect(bad.stderr).toContain(`${file}:5: stages[0].budget.epochs`);
    expect(bad.stderr).not.toContain('    at ');

    const error = await connectWorker('127.0.0.1:9', { timeoutMs: 1000 }).catch(
      (caught: unknown) => caught,
    );
    expect(TrainerError.isInstance(error) && error.code).toBe('trainer/worker-unreachable');
    expect(String((error as Error).message)).toContain('127.0.0.1:9');
    expect(String((error as Error).message)).toContain('midspec worker start');
  });

  it('keeps the flag form of `midspec train` working', async () => {
    const result = await cli(
      'train',
      '--text',
      data.documents,
      '--chat',
      data.chats,
      '--max-steps',
      '2',
      '--max-length',
      '64',
      '--lora-r',
      '4',
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/run \S+ succeeded/);
    const runId = /run (\S+) succeeded/.exec(result.stdout)?.[1] ?? '';
    expect((await fixture.client.getRun({ runId })).state).toBe(RunState.RUN_STATE_SUCCEEDED);
  }, 300_000);
});
