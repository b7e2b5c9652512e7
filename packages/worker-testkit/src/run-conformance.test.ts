import { describe, expect, it } from 'vitest';
import { startFakeWorker } from './fake-worker.js';
import { formatConformanceTable, runConformance } from './run-conformance.js';

describe('runConformance', () => {
  it('passes every check against a worker that keeps the contract', async () => {
    const worker = await startFakeWorker({ stepMs: 20 });
    try {
      const seen: string[] = [];
      const results = await runConformance(worker.address, {
        onResult: (result) => seen.push(result.id),
      });
      const failures = results.filter((result) => result.status !== 'pass');
      expect(failures).toEqual([]);
      expect(seen).toEqual(results.map((result) => result.id));
      expect(seen).toEqual(
        expect.arrayContaining([
          'health',
          'reflection',
          'upload-resume',
          'submit-idempotent',
          'watch-resume',
          'cancel',
          'download',
          'midtrain-learns',
          'sft-assistant-only',
          'chained-adapter',
        ]),
      );
      expect(formatConformanceTable(results)).toContain(
        `${results.length} passed, 0 failed, 0 skipped`,
      );
    } finally {
      await worker.close();
    }
  });

  it('fails the checks a worker breaks, with the reason', async () => {
    const worker = await startFakeWorker({ stepMs: 20 });
    worker.capabilities.protocolVersion = 'something.else';
    worker.capabilities.implementedRpcs = [];
    try {
      const results = await runConformance(worker.address, {
        only: ['capabilities', 'upload', 'download'],
      });
      const byId = Object.fromEntries(results.map((result) => [result.id, result]));
      expect(byId.capabilities).toMatchObject({
        status: 'fail',
        detail: 'protocol_version is "something.else"',
      });
      expect(byId.upload).toMatchObject({
        status: 'fail',
        detail: expect.stringContaining('needs nonce'),
      });
      expect(byId.download?.status).toBe('fail');
    } finally {
      await worker.close();
    }
  });

  it('fails a worker that reports falling losses but trains nothing', async () => {
    const worker = await startFakeWorker({ stepMs: 5, trainsNothing: true });
    try {
      const results = await runConformance(worker.address);
      const failed = results.filter((result) => result.status === 'fail').map((r) => r.id);
      expect(failed).toEqual(['midtrain-learns', 'sft-assistant-only', 'chained-adapter']);
      expect(results.find((result) => result.id === 'midtrain-learns')?.detail).toContain(
        'training did not learn',
      );
      // Its event stream alone looks like training: the loss falls.
      const losses = [...worker.runs.values()][0]?.events.flatMap((event) =>
        event.event?.$case === 'metrics' ? [event.event.metrics.loss] : [],
      );
      expect(losses).toEqual([3.5, 3, 2.5]);
    } finally {
      await worker.close();
    }
  });

  it('reports an unreachable worker in every check', async () => {
    const results = await runConformance('127.0.0.1:1', {
      only: ['health', 'capabilities'],
      checkTimeoutMs: 5000,
    });
    expect(results.every((result) => result.status === 'fail')).toBe(true);
  });
});
