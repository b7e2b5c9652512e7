import { createWorkerClient, type WorkerClient } from '@midspec/proto';
import { type FakeWorker, startFakeWorker } from '@midspec/worker-testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TrainerRunEvent } from './run-events.js';
import { getMetricHistory } from './run-metrics.js';
import { submitRun } from './submit-runs.js';
import { waitForRun, watchRun } from './watch-run.js';

let worker: FakeWorker;
let client: WorkerClient;

beforeEach(async () => {
  worker = await startFakeWorker({ stepMs: 2 });
  client = createWorkerClient(worker.address);
});

afterEach(async () => {
  client.close();
  await worker.close();
});

async function startRun(stages = 2): Promise<string> {
  const { run } = await submitRun(client, {
    name: 'r',
    baseModel: 'tiny:llama',
    stages: Array.from({ length: stages }, (_, index) => ({
      name: `s${index}`,
      kind: 1,
      data: [],
    })),
    seed: 0,
    worldSize: 1,
    checkpointEverySteps: 0,
    labels: {},
    dtype: '',
  });
  return run.id;
}

describe('watchRun', () => {
  it('yields typed events in order, exactly once, across dropped streams', async () => {
    const runId = await startRun();
    worker.faults.dropWatches = 3;
    worker.faults.dropWatchAfterEvents = 4;
    const reconnects: number[] = [];
    const events: TrainerRunEvent[] = [];
    for await (const event of watchRun(client, runId, {
      reconnectDelayMs: 1,
      onReconnect: ({ afterSeq }) => reconnects.push(afterSeq),
    }))
      events.push(event);
    expect(reconnects).toEqual([4, 8, 12]);
    const seqs = events.map((event) => event.seq);
    expect(seqs).toEqual(seqs.map((_, index) => index + 1));
    expect(events[0]?.type).toBe('state-changed');
    expect(events.filter((event) => event.type === 'metrics-reported')).toHaveLength(6);
    expect(events.filter((event) => event.type === 'checkpoint-saved')).toHaveLength(2);
    expect(events.at(-1)).toMatchObject({ type: 'state-changed', state: 'succeeded' });
  });

  it('resumes from a given sequence number', async () => {
    const runId = await startRun(1);
    const all = await collect(runId, 0);
    const tail = await collect(runId, 3);
    expect(tail.map((event) => event.seq)).toEqual(all.slice(3).map((event) => event.seq));
  });

  it('gives up after too many reconnects without progress', async () => {
    const runId = await startRun();
    worker.faults.dropWatches = 100;
    worker.faults.dropWatchAfterEvents = 0;
    const error = await collect(runId, 0, 2).catch((caught: unknown) => caught);
    expect(String(error)).toContain('UNAVAILABLE');
  });

  it('waits for completion, cancels, and reads metric history', async () => {
    const runId = await startRun();
    const final = await waitForRun(client, runId);
    expect(final.state).toBe(4);
    const history = await getMetricHistory(client, runId);
    expect(history.map((metrics) => `${metrics.stageIndex}:${metrics.step}`)).toEqual([
      '0:1',
      '0:2',
      '0:3',
      '1:1',
      '1:2',
      '1:3',
    ]);

    const slow = await startFakeWorker({ stepMs: 50 });
    const slowClient = createWorkerClient(slow.address);
    try {
      const { run } = await submitRun(slowClient, {
        name: 'c',
        baseModel: 'tiny:llama',
        stages: [{ name: 's', kind: 1, data: [] }],
      } as never);
      const cancelled = await slowClient.cancelRun({ runId: run.id });
      expect(cancelled.state).toBe(6);
      const after = await waitForRun(slowClient, run.id);
      expect(after.state).toBe(6);
    } finally {
      slowClient.close();
      await slow.close();
    }
  });
});

async function collect(
  runId: string,
  afterSeq: number,
  maxReconnects = 10,
): Promise<TrainerRunEvent[]> {
  const events: TrainerRunEvent[] = [];
  for await (const event of watchRun(client, runId, {
    afterSeq,
    maxReconnects,
    reconnectDelayMs: 1,
  }))
    events.push(event);
  return events;
}
