import type { CallOptions } from './call-options.js';
import { sleep } from './sleep.js';

/** What a failed call means for retrying it; `undefined` from `classify` means "do not retry". */
export interface RetryAdvice {
  retryable: boolean;
  /** The server asked us to slow down (HTTP 429, gRPC RESOURCE_EXHAUSTED): the limit halves. */
  rateLimited?: boolean;
  /** The server's Retry-After, when it sent one: every caller waits it out. */
  retryAfterMs?: number;
}

export interface AdaptiveLimiterOptions {
  /** Most calls in flight (default 8). */
  maxConcurrency?: number;
  /** Retries of a retryable failure in `run` (default 4). */
  maxRetries?: number;
  /** First backoff delay; doubles each retry, with jitter (default 500 ms). */
  baseDelayMs?: number;
  /** Longest single wait, Retry-After included (default 60 s). */
  maxDelayMs?: number;
  /** Says whether a failure of `run`'s call is worth retrying (default: nothing is). */
  classify?: (error: unknown) => RetryAdvice | undefined;
}

interface Waiter {
  wake: () => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
}

/**
 * Concurrency for one provider, shared by every caller: additive increase, multiplicative decrease.
 * A rate-limit answer halves the limit, successes grow it back by one slot per `limit` successes up
 * to `maxConcurrency`, and a server's Retry-After holds every new acquisition until it has passed.
 * `run` wraps a call with all of it plus retries with jittered exponential backoff.
 */
export class AdaptiveLimiter {
  readonly maxConcurrency: number;
  /** Calls retried and rate-limit answers seen, for run summaries. */
  readonly stats = { retries: 0, rateLimited: 0 };
  private readonly maxRetries: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly classify: (error: unknown) => RetryAdvice | undefined;
  private currentLimit: number;
  private active = 0;
  private successes = 0;
  private pausedUntil = 0;
  private pauseTimer: ReturnType<typeof setTimeout> | undefined;
  private waiting: Waiter[] = [];
  private readonly watched = new Map<AbortSignal, number>();
  private readonly listeners = new Map<AbortSignal, () => void>();

  constructor(options: AdaptiveLimiterOptions = {}) {
    const max = options.maxConcurrency ?? 8;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`maxConcurrency must be an integer of at least 1 (got ${max})`);
    }
    this.maxConcurrency = max;
    this.currentLimit = max;
    this.maxRetries = options.maxRetries ?? 4;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 60_000;
    this.classify = options.classify ?? (() => undefined);
  }

  /** The current limit (between 1 and `maxConcurrency`). */
  get limit(): number {
    return this.currentLimit;
  }

  get inFlight(): number {
    return this.active;
  }

  /** Runs `call` in a slot, retrying the failures `classify` calls retryable. */
  async run<T>(call: () => Promise<T>, options: CallOptions = {}): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
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
      if (options.signal?.aborted) throw options.signal.reason ?? failure;
      const advice = this.classify(failure);
      if (!advice?.retryable || attempt >= this.maxRetries) throw failure;
      this.stats.retries += 1;
      const backoff = this.baseDelayMs * 2 ** attempt * (0.5 + Math.random() / 2);
      const wait = Math.min(this.maxDelayMs, advice.retryAfterMs ?? backoff);
      if (advice.rateLimited) this.onRateLimited();
      // A rate limit or a server's Retry-After pauses every caller (acquire waits it out); other
      // failures wait alone.
      if (advice.rateLimited || advice.retryAfterMs !== undefined) this.pauseFor(wait);
      else await sleep(wait, options.signal);
    }
  }

  /** Waits for a slot (first come, first served). Rejects with the signal's reason on abort. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      this.waiting.push({ wake: resolve, reject, signal });
      if (signal) this.watch(signal);
      this.pump();
    });
  }

  /**
   * One abort listener per signal however many callers wait with it (a run's signal is shared by
   * every call of the run), removed once none of them waits any more.
   */
  private watch(signal: AbortSignal): void {
    const count = this.watched.get(signal);
    if (count !== undefined) {
      this.watched.set(signal, count + 1);
      return;
    }
    const onAbort = () => {
      const cancelled = this.waiting.filter((waiter) => waiter.signal === signal);
      this.waiting = this.waiting.filter((waiter) => waiter.signal !== signal);
      this.watched.delete(signal);
      this.listeners.delete(signal);
      for (const waiter of cancelled) waiter.reject(signal.reason);
    };
    this.watched.set(signal, 1);
    this.listeners.set(signal, onAbort);
    signal.addEventListener('abort', onAbort, { once: true });
  }

  private unwatch(signal: AbortSignal): void {
    const count = (this.watched.get(signal) ?? 1) - 1;
    if (count > 0) {
      this.watched.set(signal, count);
      return;
    }
    this.watched.delete(signal);
    const onAbort = this.listeners.get(signal);
    this.listeners.delete(signal);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }

  /** Gives back a slot taken with `acquire`. */
  release(): void {
    this.active = Math.max(0, this.active - 1);
    this.pump();
  }

  onSuccess(): void {
    if (this.currentLimit >= this.maxConcurrency) return;
    this.successes += 1;
    if (this.successes >= this.currentLimit) {
      this.successes = 0;
      this.currentLimit += 1;
      this.pump();
    }
  }

  onRateLimited(): void {
    this.stats.rateLimited += 1;
    this.currentLimit = Math.max(1, Math.floor(this.currentLimit / 2));
    this.successes = 0;
  }

  /** Holds every new acquisition for `ms` (calls in flight go on). */
  pauseFor(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms);
  }

  private pump(): void {
    const wait = this.pausedUntil - Date.now();
    if (wait > 0) {
      if (!this.pauseTimer) {
        this.pauseTimer = setTimeout(() => {
          this.pauseTimer = undefined;
          this.pump();
        }, wait);
      }
      return;
    }
    while (this.active < this.currentLimit && this.waiting.length > 0) {
      const waiter = this.waiting.shift() as Waiter;
      this.active += 1;
      if (waiter.signal) this.unwatch(waiter.signal);
      waiter.wake();
    }
  }
}
