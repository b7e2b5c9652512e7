import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AdaptiveLimiter, type RetryAdvice } from './adaptive-limiter.js';

class Flaky extends Error {
  constructor(readonly advice: RetryAdvice) {
    super('flaky');
  }
}
const classify = (error: unknown) => (error instanceof Flaky ? error.advice : undefined);

describe('AdaptiveLimiter', () => {
  it('never runs more than maxConcurrency calls at once, in arrival order', async () => {
    const limiter = new AdaptiveLimiter({ maxConcurrency: 2 });
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        limiter.run(async () => {
          order.push(index);
          running += 1;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setTimeout(resolve, 5));
          running -= 1;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(limiter.inFlight).toBe(0);
  });

  it('halves on a rate limit and grows back one slot per `limit` successes', () => {
    const limiter = new AdaptiveLimiter({ maxConcurrency: 8 });
    limiter.onRateLimited();
    expect(limiter.limit).toBe(4);
    limiter.onRateLimited();
    limiter.onRateLimited();
    limiter.onRateLimited();
    expect(limiter.limit).toBe(1);
    limiter.onSuccess();
    expect(limiter.limit).toBe(2);
    limiter.onSuccess();
    expect(limiter.limit).toBe(2);
    limiter.onSuccess();
    expect(limiter.limit).toBe(3);
    expect(limiter.stats.rateLimited).toBe(4);
  });

  it('retries what classify calls retryable, honouring Retry-After for every caller', async () => {
    const limiter = new AdaptiveLimiter({ maxConcurrency: 4, baseDelayMs: 1, classify });
    let calls = 0;
    const started = Date.now();
    const result = await limiter.run(async () => {
      calls += 1;
      if (calls === 1) throw new Flaky({ retryable: true, rateLimited: true, retryAfterMs: 40 });
      if (calls === 2) throw new Flaky({ retryable: true });
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
    expect(limiter.stats).toEqual({ retries: 2, rateLimited: 1 });
    expect(limiter.limit).toBe(2);
  });

  it('gives up after maxRetries and does not retry what is not retryable', async () => {
    const limiter = new AdaptiveLimiter({ maxRetries: 2, baseDelayMs: 1, classify });
    let calls = 0;
    await expect(
      limiter.run(async () => {
        calls += 1;
        throw new Flaky({ retryable: true });
      }),
    ).rejects.toThrow('flaky');
    expect(calls).toBe(3);
    calls = 0;
    await expect(
      limiter.run(async () => {
        calls += 1;
        throw new Error('bad request');
      }),
    ).rejects.toThrow('bad request');
    expect(calls).toBe(1);
  });

  it('a waiting acquisition rejects on abort and leaves the queue', async () => {
    const limiter = new AdaptiveLimiter({ maxConcurrency: 1 });
    await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    controller.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    limiter.release();
    expect(limiter.inFlight).toBe(0);
    await limiter.acquire();
    expect(limiter.inFlight).toBe(1);
  });

  it('adds one abort listener per signal however many wait with it, and removes it', async () => {
    const limiter = new AdaptiveLimiter({ maxConcurrency: 1 });
    const controller = new AbortController();
    await limiter.acquire(controller.signal);
    const waiting = Array.from({ length: 20 }, () => limiter.acquire(controller.signal));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    for (let index = 0; index < 20; index += 1) {
      limiter.release();
      await waiting[index];
    }
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    const other = new AbortController();
    const cancelled = [limiter.acquire(other.signal), limiter.acquire(other.signal)];
    other.abort(new Error('run cancelled'));
    for (const item of cancelled) await expect(item).rejects.toThrow('run cancelled');
    limiter.release();
    expect(limiter.inFlight).toBe(0);
  });

  it('refuses a concurrency below 1', () => {
    expect(() => new AdaptiveLimiter({ maxConcurrency: 0 })).toThrow(/at least 1/);
  });
});
