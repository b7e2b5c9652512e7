import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { sleep } from './sleep.js';

describe('sleep', () => {
  it('waits about the time asked', async () => {
    const started = Date.now();
    await sleep(20);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
  });

  it("rejects with the signal's reason on abort and removes its listener", async () => {
    const controller = new AbortController();
    const signal = controller.signal;
    await sleep(1, signal);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    const waiting = sleep(60_000, signal);
    controller.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
  });

  it('rejects at once when the signal has already aborted', async () => {
    await expect(sleep(60_000, AbortSignal.abort(new Error('late')))).rejects.toThrow('late');
  });
});
