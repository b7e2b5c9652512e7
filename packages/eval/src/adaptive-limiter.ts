import type { CallOptions } from '@midspec/proto';
import { BackendError } from './backend.js';

export interface LimiterOptions {
  /** Most calls in flight (default 8). */
  maxConcurrency?: number;
  /** Retries of a retryable failure (default 4). */
  maxRetries?: number;
  /** First backoff delay; doubles each retry, with jitter (default 500 ms). */
  baseDelayMs?: number;
  /** Longest single wait (default 60 s). */
  maxDelayMs?: number;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Concurrency for one provider, shared by every caller (model under test and judge alike), with
 * additive-increase/multiplicative-decrease: a rate-limit answer halves the limit and pauses everyone
 * for the provider's Retry-After; successes grow it back by one per `limit` calls.
 */
export class AdaptiveLimiter {
  readonly maxConcurrency: number;
  private readonly maxRetries: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private limit: number;
  private active = 0;
  private successes = 0;
  private pausedUntil = 0;
  private readonly waiting: Array<() => void> = [];
  /** Calls retried and rate-limit answers seen, for the run summary. */
  readonly stats = { retries: 0, rateLimited: 0 };

  constructor(options: LimiterOptions = {}) {
    this.maxConcurrency = Math.max(1, options.maxConcurrency ?? 8);
    this.limit = this.maxConcurrency;
    this.maxRetries = options.maxRetries ?? 4;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 60_000;
  }

  /** The current limit (≤ maxConcurrency). */
  get currentLimit(): number {
    return this.limit;
  }

  /** Runs `call` in a slot, retrying retryable BackendErrors with backoff. */
  async run<T>(call: () => Promise<T>, options: CallOptions = {}): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      await this.acquire(options.signal);
      let failure: unknown;
      try {
        const result = await call();
        this.onSuccess();
        return result;
      } catch (error) {
        failure = error;
      } finally {
        this.release();
      }
      const retryable = BackendError.isInstance(failure) && (failure as BackendError).retryable;
      if (!retryable || attempt >= this.maxRetries || options.signal?.aborted) throw failure;
      const backendError = failure as BackendError;
      this.stats.retries++;
      const backoff = this.baseDelayMs * 2 ** attempt * (0.5 + Math.random() / 2);
      const wait = Math.min(this.maxDelayMs, backendError.retryAfterMs ?? backoff);
      // A rate limit pauses every caller (acquire waits it out); other failures wait alone.
      if (backendError.rateLimited) this.onRateLimited(wait);
      else await sleep(wait, options.signal);
    }
  }

  private async acquire(signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      const pause = this.pausedUntil - Date.now();
      if (pause > 0) await sleep(pause, signal);
      else if (this.active < Math.floor(this.limit)) break;
      else await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.active++;
  }

  private release(): void {
    this.active = Math.max(0, this.active - 1);
    this.waiting.shift()?.();
  }

  private onSuccess(): void {
    this.successes++;
    if (this.limit < this.maxConcurrency && this.successes >= this.limit) {
      this.successes = 0;
      this.limit = Math.min(this.maxConcurrency, this.limit + 1);
    }
  }

  private onRateLimited(waitMs: number): void {
    this.stats.rateLimited++;
    this.successes = 0;
    this.limit = Math.max(1, Math.floor(this.limit / 2));
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + waitMs);
  }
}
